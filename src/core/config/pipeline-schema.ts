import { z } from 'zod';
import { durationSchema } from './duration-schema.ts';
import { evolveSchema } from './evolve-schema.ts';
import { oversightSchema } from './oversight-schema.ts';
import { researchSchema } from './research-schema.ts';
import { acceptanceSchema } from './trust-schema.ts';

/** A stage name: it becomes part of a study name (`<pipeline>/<stage>`) and of references (`${stage.best.x}`), so no dots or slashes. */
export const stageNameSchema = z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'lowercase letters, digits, _ - (it names the study <pipeline>/<stage>)');

/** One task variant a research evaluation runs on: a seed (STRATA_SEED of every trial) and/or extra environment. */
export const researchExampleSchema = z.strictObject({
  id: z
    .union([z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'lowercase letters, digits, _ -'), z.number().int().min(0)])
    .optional()
    .describe('names the example in scores and study names (default seed-<seed> or example-<n>)'),
  seed: z.number().int().min(0).optional().describe('STRATA_SEED of every trial of this evaluation'),
  env: z.record(z.string(), z.string()).optional().describe('extra environment for the trials, added to research.env, e.g. {DATA: small}'),
});

/** `evaluator: {kind: research}`: each evaluation of a candidate is a short research study. */
export const researchEvaluatorSchema = z.strictObject({
  kind: z.literal('research'),
  trials: z.number().int().min(2).describe('max_trials of each evaluation study (the baseline counts)'),
  budget: durationSchema.optional().describe('wall clock per trial of an evaluation (default research.budget): a screening budget'),
  examples: z.array(researchExampleSchema).min(1).describe('the variants a candidate is scored on (GEPA validation instances), e.g. [{seed: 1}, {seed: 2}]'),
  program: z
    .string()
    .regex(/^[A-Za-z_][\w-]*$/)
    .optional()
    .describe('the component the research agent follows as its program (default: the component named program)'),
  proposer: z.enum(['agent', 'command']).optional().describe('the proposer of the evaluation studies (default research.proposer when agent or command, else agent)'),
  acceptance: acceptanceSchema.optional().describe('acceptance of the evaluation studies (default {rule: strict}: screening studies are too short for baseline repeats)'),
});

/**
 * A stage's `research:`: keys that replace the pipeline's top-level `research:` keys
 * for this stage. No defaults here, so an unset key keeps the top-level value.
 */
export const stageResearchSchema = z.strictObject(
  Object.fromEntries(
    Object.entries(researchSchema.shape).map(([key, schema]) => [key, (schema instanceof z.ZodDefault ? (schema.unwrap() as z.ZodType) : schema).optional()]),
  ) as { [K in keyof typeof researchSchema.shape]: z.ZodOptional<z.ZodType<z.output<(typeof researchSchema.shape)[K]>, z.input<(typeof researchSchema.shape)[K]>>> },
);

/** A stage's `evolve:`: the evolve section, where `data` and `metric` give way to a research evaluator. */
export const stageEvolveSchema = evolveSchema.extend({
  data: evolveSchema.shape.data.optional(),
  metric: evolveSchema.shape.metric.optional(),
  evaluator: researchEvaluatorSchema.optional().describe('score each candidate by short research studies instead of data + metric'),
});

/** `handoff:`: write an earlier stage's best components into files of this stage's starting commit. */
export const handoffSchema = z.strictObject({
  from: stageNameSchema.optional().describe('the evolve stage whose best components are written (default: the previous stage)'),
  files: z
    .record(z.string().regex(/^[A-Za-z_][\w-]*$/, 'a component name'), z.string().min(1))
    .describe('component -> file relative to this config, e.g. {system_prompt: prompts/system.txt}'),
});

export const stageSchema = z.strictObject({
  stage: stageNameSchema.describe('the stage name; its study is <pipeline>/<stage>'),
  research: stageResearchSchema.optional().describe('a research stage: keys replacing the top-level research keys; strings may hold ${<stage>.best.<component|commit|metric>}'),
  evolve: stageEvolveSchema.optional().describe('an evolve stage: the evolve section, or one whose evaluator is short research studies'),
  start: z
    .string()
    .min(1)
    .optional()
    .describe("the commit this stage starts from: a git revision or ${<stage>.best.commit} (default: HEAD when the pipeline was created)"),
  handoff: handoffSchema.optional(),
  oversight: oversightSchema
    .optional()
    .describe("this stage's oversight: its pause_on and notify replace the top-level oversight's (the top-level section applies to every stage)"),
});

/** `pipeline:` stages run in order, each a study in the same ledger. */
export const pipelineSchema = z.array(stageSchema).min(1).describe('stages run in order; each is a study named <name>/<stage>');

export type PipelineSection = z.infer<typeof pipelineSchema>;
export type StageSection = z.infer<typeof stageSchema>;
export type ResearchEvaluatorSection = z.infer<typeof researchEvaluatorSchema>;
