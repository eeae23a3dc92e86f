import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import type { LanguageModel } from 'ai';
import type { ModelSpec } from '../core/config/llm-config.ts';
import { LlmConfigError } from './errors.ts';

/** The environment variable each provider reads its key from unless `api_key_env` says otherwise. */
export const DEFAULT_KEY_ENV: Readonly<Record<string, string>> = { openai: 'OPENAI_API_KEY', anthropic: 'ANTHROPIC_API_KEY' };

/** An AI SDK model object (never a bare gateway id string). */
export type ModelObject = Exclude<LanguageModel, string>;

/**
 * Build the AI SDK model for a spec. Fails before any call with a message
 * naming the variable or setting to fix (missing key, missing base_url).
 * OpenAI models go through the Chat Completions API, which every
 * OpenAI-compatible server also speaks.
 *
 * @example
 * const model = resolveLanguageModel({ name: 'ollama:llama3.1', provider: 'ollama', modelId: 'llama3.1' });
 */
export function resolveLanguageModel(spec: ModelSpec, env: NodeJS.ProcessEnv = process.env): ModelObject {
  switch (spec.provider) {
    case 'openai':
      return createOpenAI({ apiKey: requireKey(spec, env), ...(spec.baseUrl ? { baseURL: spec.baseUrl } : {}) }).chat(spec.modelId);
    case 'anthropic':
      return createAnthropic({ apiKey: requireKey(spec, env), ...(spec.baseUrl ? { baseURL: spec.baseUrl } : {}) })(spec.modelId);
    case 'ollama': {
      const apiKey = optionalKey(spec, env);
      return createOpenAICompatible({ name: 'ollama', baseURL: spec.baseUrl ?? ollamaBaseUrl(env), includeUsage: true, ...(apiKey ? { apiKey } : {}) })(spec.modelId);
    }
    case 'openai-compatible': {
      if (!spec.baseUrl) throw new LlmConfigError(`${spec.name} needs a base_url (e.g. http://127.0.0.1:8000/v1)`, { model: spec.name });
      const apiKey = optionalKey(spec, env);
      return createOpenAICompatible({ name: 'openai-compatible', baseURL: spec.baseUrl, includeUsage: true, ...(apiKey ? { apiKey } : {}) })(spec.modelId);
    }
    default:
      throw new LlmConfigError(`unknown provider in "${spec.name}"; use openai, anthropic, ollama or openai-compatible`, { model: spec.name });
  }
}

/** `OLLAMA_HOST` (`host:port` or a URL) as an OpenAI-compatible base URL, default http://127.0.0.1:11434/v1. */
export function ollamaBaseUrl(env: NodeJS.ProcessEnv): string {
  const host = env.OLLAMA_HOST?.trim();
  if (!host) return 'http://127.0.0.1:11434/v1';
  const url = /^https?:\/\//.test(host) ? host : `http://${host}`;
  return url.replace(/\/+$/, '').endsWith('/v1') ? url.replace(/\/+$/, '') : `${url.replace(/\/+$/, '')}/v1`;
}

function requireKey(spec: ModelSpec, env: NodeJS.ProcessEnv): string {
  const variable = spec.apiKeyEnv ?? DEFAULT_KEY_ENV[spec.provider]!;
  const key = env[variable];
  if (!key) {
    const hint = spec.apiKeyEnv ? `(named by api_key_env)` : `(or set api_key_env to the variable that holds it)`;
    throw new LlmConfigError(`${spec.name} needs an API key: set ${variable} in the environment ${hint}`, { model: spec.name, variable });
  }
  return key;
}

/** Local servers usually need no key; but a named variable that is unset is a mistake worth stopping for. */
function optionalKey(spec: ModelSpec, env: NodeJS.ProcessEnv): string | undefined {
  if (!spec.apiKeyEnv) return undefined;
  const key = env[spec.apiKeyEnv];
  if (!key) throw new LlmConfigError(`${spec.name}: api_key_env names ${spec.apiKeyEnv}, but it is not set in the environment`, { model: spec.name, variable: spec.apiKeyEnv });
  return key;
}
