import type { ModelPrices } from '../core/config/llm-config.ts';

/**
 * Built-in list prices (USD per million tokens) for common models, matched by
 * the longest prefix of the model id so dated ids (`claude-sonnet-4-5-20250929`)
 * find their family. Local servers (ollama) cost nothing. Override per model
 * with `prices:` in config when a price changes or a model is missing.
 */
const TABLE: Readonly<Record<string, Readonly<Record<string, ModelPrices>>>> = {
  openai: {
    'gpt-5-nano': { inputPerMtok: 0.05, outputPerMtok: 0.4 },
    'gpt-5-mini': { inputPerMtok: 0.25, outputPerMtok: 2 },
    'gpt-5': { inputPerMtok: 1.25, outputPerMtok: 10 },
    'gpt-4.1-nano': { inputPerMtok: 0.1, outputPerMtok: 0.4 },
    'gpt-4.1-mini': { inputPerMtok: 0.4, outputPerMtok: 1.6 },
    'gpt-4.1': { inputPerMtok: 2, outputPerMtok: 8 },
    'gpt-4o-mini': { inputPerMtok: 0.15, outputPerMtok: 0.6 },
    'gpt-4o': { inputPerMtok: 2.5, outputPerMtok: 10 },
    'o4-mini': { inputPerMtok: 1.1, outputPerMtok: 4.4 },
    'o3-mini': { inputPerMtok: 1.1, outputPerMtok: 4.4 },
    o3: { inputPerMtok: 2, outputPerMtok: 8 },
  },
  anthropic: {
    'claude-opus-4': { inputPerMtok: 15, outputPerMtok: 75 },
    'claude-sonnet-4': { inputPerMtok: 3, outputPerMtok: 15 },
    'claude-3-7-sonnet': { inputPerMtok: 3, outputPerMtok: 15 },
    'claude-3-5-sonnet': { inputPerMtok: 3, outputPerMtok: 15 },
    'claude-haiku-4': { inputPerMtok: 1, outputPerMtok: 5 },
    'claude-3-5-haiku': { inputPerMtok: 0.8, outputPerMtok: 4 },
  },
};

/**
 * Prices for a model: the config override if given, else the built-in table,
 * else undefined (unknown: spend cannot be capped).
 *
 * @example
 * pricesFor('anthropic', 'claude-sonnet-4-5-20250929'); // { inputPerMtok: 3, outputPerMtok: 15 }
 */
export function pricesFor(provider: string, modelId: string, override?: ModelPrices): ModelPrices | undefined {
  if (override) return override;
  if (provider === 'ollama') return { inputPerMtok: 0, outputPerMtok: 0 };
  const family = TABLE[provider];
  if (!family) return undefined;
  const id = modelId.toLowerCase();
  let best: string | undefined;
  for (const prefix of Object.keys(family)) {
    if (id.startsWith(prefix) && (best === undefined || prefix.length > best.length)) best = prefix;
  }
  return best === undefined ? undefined : family[best];
}

/** USD for a number of tokens at the given prices. */
export function costUsd(prices: ModelPrices, inputTokens: number, outputTokens: number): number {
  return (inputTokens * prices.inputPerMtok + outputTokens * prices.outputPerMtok) / 1_000_000;
}
