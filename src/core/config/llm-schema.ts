import { z } from 'zod';
import { durationSchema } from './research-schema.ts';

/** `provider:model`, e.g. `anthropic:claude-sonnet-4-5`, `openai:gpt-4.1-mini`, `ollama:llama3.1`. */
export const modelStringSchema = z
  .string()
  .regex(/^[a-z][a-z-]*:\S+$/, 'expected provider:model, e.g. openai:gpt-4.1-mini or anthropic:claude-sonnet-4-5')
  .describe('provider:model; providers: openai, anthropic, ollama, openai-compatible');

export const pricesSchema = z
  .strictObject({
    input_per_mtok: z.number().min(0).describe('USD per million input tokens'),
    output_per_mtok: z.number().min(0).describe('USD per million output tokens'),
  })
  .describe('overrides the built-in price table for this model');

/** Where and how to reach one model. */
export const modelSettingsShape = {
  model: modelStringSchema,
  base_url: z.url().optional().describe('endpoint for openai-compatible and ollama (also a proxy for openai/anthropic)'),
  api_key_env: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name')
    .optional()
    .describe('environment variable holding the API key; default OPENAI_API_KEY or ANTHROPIC_API_KEY'),
  prices: pricesSchema.optional(),
};

/** A model given in full (the short form is just the `provider:model` string). */
export const modelSpecSchema = z.strictObject(modelSettingsShape);

/** A model reference: `provider:model` or `{ model, base_url?, api_key_env?, prices? }`. */
export const modelReferenceSchema = z.union([modelStringSchema, modelSpecSchema]);

export const llmSchema = z.strictObject({
  ...modelSettingsShape,
  max_usd: z.number().min(0).optional().describe('study-wide cap on LLM spend in USD; 0 or absent = no cap'),
  timeout: durationSchema.optional().describe('per-call timeout (default 120s)'),
  max_retries: z.number().int().min(0).max(20).optional().describe('retries on 429/5xx/timeouts, with backoff honoring Retry-After (default 4)'),
});

export type LlmSection = z.infer<typeof llmSchema>;
export type ModelReference = z.infer<typeof modelReferenceSchema>;
