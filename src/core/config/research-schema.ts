import { z } from 'zod';
import { durationSchema } from './duration-schema.ts';
import { executorSchema, fidelitySchema } from './executor-schema.ts';
import { trustKeys } from './trust-schema.ts';

export { durationSchema };

const choiceValue = z.union([z.string(), z.number(), z.boolean()]);

/** `when: {optimizer: sgd}`: the parameter exists only while every named parent holds one of the listed values. */
const conditionSchema = z
  .record(z.string(), z.union([choiceValue, z.array(choiceValue).min(1)]))
  .optional()
  .describe('active only when every named parameter (a choice or an int) holds the value or one of the listed values, e.g. {optimizer: sgd}; the params file then omits it otherwise');

export const paramSpecSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('float'), low: z.number(), high: z.number(), log: z.boolean().optional(), when: conditionSchema }),
  z.strictObject({ type: z.literal('int'), low: z.number().int(), high: z.number().int(), log: z.boolean().optional(), when: conditionSchema }),
  z.strictObject({ type: z.literal('choice'), values: z.array(choiceValue).min(1), when: conditionSchema }),
]);

const metricNameSchema = z.string().regex(/^[A-Za-z_][\w.-]*$/, 'a metric name: letters, digits, _ . -');

const metricPatternSchema = z
  .string()
  .refine(hasCaptureGroup, { message: 'expected a regular expression with a group around the number, e.g. ^val_bpb:\\s*(\\S+)' });

/** A metric recorded beside the main one: a name, or a name and its own pattern. */
export const secondaryMetricSchema = z.union([metricNameSchema, z.strictObject({ name: metricNameSchema, pattern: metricPatternSchema })]);

/** Bounds on one metric; a trial outside them is `invalid`. */
export const constraintSchema = z.strictObject({
  min: z.number().optional().describe('smallest allowed value'),
  max: z.number().optional().describe('largest allowed value'),
});

export const metricSchema = z.strictObject({
  name: metricNameSchema.describe('the metric the study optimizes'),
  goal: z.enum(['minimize', 'maximize']),
  pattern: metricPatternSchema
    .optional()
    .describe('a regular expression applied to each output line; its first group is the metric. Default: lines `METRIC <name>=<number>`'),
  secondary: z
    .array(secondaryMetricSchema)
    .optional()
    .describe('other metrics recorded and shown with every trial, e.g. [peak_vram_mb]; read from lines `METRIC <name>=<number>` or `<name>: <number>` (autoresearch\'s summary), or with their own pattern'),
  valid_range: z
    .tuple([z.number(), z.number()])
    .optional()
    .describe('[low, high] a real value can take, e.g. [0, 8] for bits per byte: a value outside is suspect, confirmed by a rerun, and never kept'),
  max_improvement_factor: z
    .number()
    .gt(1)
    .optional()
    .describe('a value improving on the best by more than this factor in one step (e.g. 2: half the loss) is suspect and must be confirmed by a rerun before it is kept'),
});

export const searchSchema = z.strictObject({
  sampler: z
    .enum(['auto', 'gp', 'tpe', 'random'])
    .default('auto')
    .describe('auto (default): a Gaussian process for spaces without conditional parameters up to 200 trials (univariate TPE for a proposal where the process sees mostly noise), else multivariate TPE; gp, tpe or random to fix one'),
  seed: z.number().int().optional().describe('seed for the sampler; default derived from the study name'),
  startup_trials: z.number().int().min(1).optional().describe('proposals before the model takes over: random for tpe (default 10), space-filling for gp (default parameters + 1, 4 to 10)'),
  multivariate: z.boolean().optional().describe('tpe: one joint estimator per group of parameters active together (default true); false = one per parameter, as Optuna by default'),
  warm_start: z
    .string()
    .min(1)
    .optional()
    .describe('seed the model with an earlier study of this ledger (its name) or a results.tsv (a path relative to this file) whose columns include the parameters'),
});

export const researchSchema = z.strictObject({
  editable: z.array(z.string().min(1)).min(1).describe('globs a proposer may change; nothing else may change'),
  protected: z.array(z.string().min(1)).default([]).describe('globs hashed before and after every trial'),
  run: z.string().min(1).describe('shell command run in the trial worktree'),
  budget: durationSchema.describe('wall clock per trial'),
  grace: durationSchema.optional().describe('extra time before the kill; default 10% of budget or 5s, whichever is larger'),
  metric: metricSchema,
  params: z.record(z.string().regex(/^[A-Za-z_]\w*$/, 'a parameter name: letters, digits, _'), paramSpecSchema).optional(),
  proposer: z.enum(['search', 'agent', 'command']).default('search'),
  search: searchSchema.optional(),
  program: z
    .string()
    .min(1)
    .optional()
    .describe("proposer: agent/command — the research instructions (autoresearch's program.md), relative to this file; default: the built-in template"),
  edit_format: z
    .enum(['tools', 'search-replace', 'whole-file'])
    .optional()
    .describe('proposer: agent — how the model edits: tool calls (default), or SEARCH/REPLACE blocks or whole files in its reply (models without tool calling)'),
  max_fix_attempts: z.number().int().min(0).max(10).optional().describe('proposer: agent — fixes tried on a change that crashed with a stack trace, each a new trial (default 2)'),
  agent_command: z
    .string()
    .min(1)
    .optional()
    .describe('proposer: command — an external coding agent run in the trial worktree with the prompt on stdin, e.g. "claude -p --permission-mode acceptEdits"'),
  agent_timeout: durationSchema.optional().describe('proposer: agent/command — wall clock per proposal (default 20m)'),
  agent_max_steps: z.number().int().min(1).max(500).optional().describe('proposer: agent — model calls per proposal (default 30)'),
  prompt_tokens: z.number().int().min(2000).optional().describe('proposer: agent/command — token budget of the prompt; older history is summarized to fit (default 32000)'),
  history_trials: z.number().int().min(0).max(1000).optional().describe('proposer: agent/command — recent trials listed one by one in the prompt (default 12)'),
  max_trials: z.number().int().min(1).optional().describe('stop after this many trials (the baseline counts)'),
  max_time: durationSchema.optional().describe('stop the study after this much wall time'),
  env: z.record(z.string(), z.string()).optional().describe('extra environment variables for trials'),
  executor: executorSchema.optional().describe('where trials run and how many at once'),
  fidelity: fidelitySchema.optional().describe('screen candidates at a short budget, rerun the best at the full budget'),
  ...trustKeys,
  constraints: z
    .record(metricNameSchema, constraintSchema)
    .optional()
    .describe('limits on the metric or secondary metrics, e.g. {peak_vram_mb: {max: 80000}}: a trial outside them (or not reporting them) is invalid even if its metric improved'),
});

export type ResearchSection = z.infer<typeof researchSchema>;

function hasCaptureGroup(pattern: string): boolean {
  try {
    return new RegExp(`${pattern}|`, 'm').exec('')!.length >= 2;
  } catch {
    return false; // an invalid regex: the refinement's message says what is expected
  }
}
