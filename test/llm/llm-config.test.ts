import { describe, expect, it } from 'vitest';
import { normalizeLlm, normalizeModelReference } from '../../src/core/config/llm-config.ts';
import { llmSchema } from '../../src/core/config/llm-schema.ts';
import type { ConfigIssue } from '../../src/core/errors.ts';
import { pricesFor } from '../../src/llm/price-table.ts';
import { ollamaBaseUrl } from '../../src/llm/resolve-model.ts';

describe('llm config', () => {
  it('normalizes the fixed contract', () => {
    const issues: ConfigIssue[] = [];
    const section = llmSchema.parse({ model: 'anthropic:claude-sonnet-4-5', max_usd: 20, prices: { input_per_mtok: 3, output_per_mtok: 15 }, api_key_env: 'MY_KEY' });
    expect(normalizeLlm(section, issues)).toEqual({
      model: { name: 'anthropic:claude-sonnet-4-5', provider: 'anthropic', modelId: 'claude-sonnet-4-5', apiKeyEnv: 'MY_KEY', prices: { inputPerMtok: 3, outputPerMtok: 15 } },
      maxUsd: 20,
      timeoutMs: 120_000,
      maxRetries: 4,
    });
    expect(issues).toEqual([]);
  });

  it('treats max_usd 0 as no cap', () => {
    expect(normalizeLlm(llmSchema.parse({ model: 'ollama:llama3.1', max_usd: 0 }), []).maxUsd).toBeUndefined();
  });

  it('flags an unknown provider and an openai-compatible model without base_url at their paths', () => {
    const issues: ConfigIssue[] = [];
    normalizeModelReference('gemini:pro', 'evolve.task_model', issues);
    normalizeModelReference('openai-compatible:qwen', 'evolve.reflection_model', issues);
    expect(issues.map((i) => i.path)).toEqual(['evolve.task_model', 'evolve.reflection_model']);
    expect(issues[0]!.message).toMatch(/unknown provider "gemini"/);
  });

  it('finds prices by longest prefix and knows ollama is free', () => {
    expect(pricesFor('anthropic', 'claude-sonnet-4-5-20250929')).toEqual({ inputPerMtok: 3, outputPerMtok: 15 });
    expect(pricesFor('openai', 'gpt-4.1-mini-2025-04-14')).toEqual({ inputPerMtok: 0.4, outputPerMtok: 1.6 });
    expect(pricesFor('ollama', 'anything')).toEqual({ inputPerMtok: 0, outputPerMtok: 0 });
    expect(pricesFor('openai-compatible', 'qwen')).toBeUndefined();
  });

  it('derives the ollama endpoint from OLLAMA_HOST', () => {
    expect(ollamaBaseUrl({})).toBe('http://127.0.0.1:11434/v1');
    expect(ollamaBaseUrl({ OLLAMA_HOST: '10.0.0.2:11434' })).toBe('http://10.0.0.2:11434/v1');
    expect(ollamaBaseUrl({ OLLAMA_HOST: 'https://gpu.local/v1/' })).toBe('https://gpu.local/v1');
  });
});
