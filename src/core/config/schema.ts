import { z } from 'zod';
import { evolveSchema } from './evolve-schema.ts';
import { llmSchema } from './llm-schema.ts';
import { pipelineSchema } from './pipeline-schema.ts';
import { researchSchema } from './research-schema.ts';

/** The whole strata.yaml. Sections for other loops are added beside `research`. */
export const configSchema = z.strictObject({
  $schema: z.string().optional(),
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]*(\/[a-z0-9][a-z0-9._-]*)*$/, 'lowercase letters, digits, . _ - (it names the git branch strata/<name>)')
    .describe('study name; also the git branch strata/<name>'),
  research: researchSchema.optional(),
  evolve: evolveSchema.optional(),
  llm: llmSchema.optional(),
  pipeline: pipelineSchema.optional(),
});

export type RawConfig = z.infer<typeof configSchema>;
