import { z } from 'zod';
import { evolveSchema } from './evolve-schema.ts';
import { llmSchema } from './llm-schema.ts';
import { oversightSchema } from './oversight-schema.ts';
import { pipelineSchema } from './pipeline-schema.ts';
import { researchSchema } from './research-schema.ts';
import { STUDY_NAME_PATTERN, STUDY_NAME_RULE, studyNameProblem } from './study-name.ts';

/** The whole strata.yaml. Sections for other loops are added beside `research`. */
export const configSchema = z.strictObject({
  $schema: z.string().optional(),
  name: z
    .string()
    .regex(STUDY_NAME_PATTERN, { error: (issue) => studyNameProblem(String(issue.input)) })
    .describe(`study name: ${STUDY_NAME_RULE}`),
  research: researchSchema.optional(),
  evolve: evolveSchema.optional(),
  llm: llmSchema.optional(),
  pipeline: pipelineSchema.optional(),
  oversight: oversightSchema.optional(),
});

export type RawConfig = z.infer<typeof configSchema>;
