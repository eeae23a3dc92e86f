import { parseDuration } from '../duration.ts';
import type { ConfigIssue } from '../errors.ts';
import type { LlmSection, ModelReference } from './llm-schema.ts';

export const PROVIDERS = ['openai', 'anthropic', 'ollama', 'openai-compatible'] as const;
export type ProviderName = (typeof PROVIDERS)[number];

/** USD per million tokens. */
export interface ModelPrices {
  inputPerMtok: number;
  outputPerMtok: number;
}

/** One model, resolved from config: which provider, which id, where, with which key. */
export interface ModelSpec {
  /** As written: `provider:model`. */
  name: string;
  provider: ProviderName;
  modelId: string;
  baseUrl?: string;
  apiKeyEnv?: string;
  prices?: ModelPrices;
}

/** The `llm:` section after normalization. */
export interface LlmConfig {
  model: ModelSpec;
  /** Study-wide cap on LLM spend; undefined = no cap. */
  maxUsd?: number;
  timeoutMs: number;
  maxRetries: number;
}

export const DEFAULT_LLM_TIMEOUT_MS = 120_000;
export const DEFAULT_LLM_MAX_RETRIES = 4;

/**
 * Turn a model reference (`provider:model` or the long form) into a ModelSpec,
 * adding an issue at `path` for an unknown provider or a missing base_url.
 * `section` is the `llm:` section's model: a reference of the same provider
 * that names no endpoint of its own takes the section's `base_url` and
 * `api_key_env` (one server or proxy for several models); another provider's
 * endpoint is never borrowed, so an openai model is not sent to a local server.
 *
 * @example
 * normalizeModelReference('anthropic:claude-sonnet-4-5', 'evolve.reflection_model', issues);
 * normalizeModelReference('openai-compatible:task', 'evolve.task_model', issues, llm.model); // llm.base_url applies
 */
export function normalizeModelReference(reference: ModelReference, path: string, issues: ConfigIssue[], section?: ModelSpec): ModelSpec {
  const long = typeof reference === 'string' ? { model: reference } : reference;
  const modelPath = typeof reference === 'string' ? path : `${path}.model`;
  const colon = long.model.indexOf(':');
  const provider = long.model.slice(0, colon);
  const modelId = long.model.slice(colon + 1);
  const inherited = section?.provider === provider ? section : undefined;
  const baseUrl = ('base_url' in long && long.base_url) || inherited?.baseUrl;
  const apiKeyEnv = ('api_key_env' in long && long.api_key_env) || inherited?.apiKeyEnv;
  if (!(PROVIDERS as readonly string[]).includes(provider)) {
    issues.push({ path: modelPath, message: `unknown provider "${provider}"; use one of ${PROVIDERS.join(', ')} (e.g. openai-compatible:${modelId} with a base_url)` });
  }
  if (provider === 'openai-compatible' && !baseUrl) {
    issues.push({
      path: typeof reference === 'string' ? path : `${path}.base_url`,
      message:
        'an openai-compatible model needs a base_url (e.g. http://127.0.0.1:8000/v1): use the long form { model, base_url }, or set llm.base_url with an openai-compatible llm.model, which every openai-compatible model then uses',
    });
  }
  return {
    name: long.model,
    provider: provider as ProviderName,
    modelId,
    ...(baseUrl ? { baseUrl } : {}),
    ...(apiKeyEnv ? { apiKeyEnv } : {}),
    ...('prices' in long && long.prices ? { prices: { inputPerMtok: long.prices.input_per_mtok, outputPerMtok: long.prices.output_per_mtok } } : {}),
  };
}

/** Normalize the `llm:` section. */
export function normalizeLlm(section: LlmSection, issues: ConfigIssue[]): LlmConfig {
  const { max_usd, timeout, max_retries, ...model } = section;
  return {
    model: normalizeModelReference(model, 'llm', issues),
    ...(max_usd !== undefined && max_usd > 0 ? { maxUsd: max_usd } : {}),
    timeoutMs: (timeout === undefined ? null : parseDuration(timeout)) ?? DEFAULT_LLM_TIMEOUT_MS,
    maxRetries: max_retries ?? DEFAULT_LLM_MAX_RETRIES,
  };
}
