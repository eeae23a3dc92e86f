import { z } from 'zod';
import { modelReferenceSchema } from './llm-schema.ts';
import { durationSchema } from './research-schema.ts';

const ignoreCase = z.boolean().optional().describe('compare without regard to case (default true)');

/** How one example's model output is scored. */
export const evolveMetricSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('exact'), ignore_case: ignoreCase }).describe('1 when the trimmed output equals the answer'),
  z.strictObject({ kind: z.literal('contains'), ignore_case: ignoreCase }).describe('1 when the output contains the answer'),
  z
    .strictObject({
      kind: z.literal('regex'),
      pattern: z.string().min(1).describe('a regular expression; its first group (or the whole match) is compared to the answer'),
      ignore_case: ignoreCase,
    })
    .describe('extract with a regular expression, then compare to the answer'),
  z
    .strictObject({ kind: z.literal('json-field'), field: z.string().min(1).describe('dot path of the field, e.g. category or result.label') })
    .describe('parse the output as JSON and compare one field to the answer (or the same field of an object answer)'),
  z
    .strictObject({
      kind: z.literal('judge'),
      rubric: z.string().min(1).describe('what a good answer looks like; the judge returns a score in [0, 1] and feedback'),
      model: modelReferenceSchema.optional().describe('the judge model; default the reflection model'),
    })
    .describe('an LLM judge with a rubric'),
  z
    .strictObject({
      kind: z.literal('command'),
      command: z.string().min(1).describe('run with {"candidate": {...}, "example": {...}} on stdin; prints {"score": n, "feedback": "...", "objectives": {...}}'),
      timeout: durationSchema.optional().describe('per example (default 60s)'),
    })
    .describe('an external command scores the candidate on the example (no task model needed)'),
]);

export const evolveBudgetSchema = z.strictObject({
  metric_calls: z.number().int().min(1).optional().describe('example evaluations (train minibatches + validation), reserved before each batch'),
  usd: z.number().min(0).optional().describe('LLM spend across task, reflection and judge models; 0 = no cap'),
  max_time: durationSchema.optional().describe('wall time for the whole run'),
  patience: z.number().int().min(1).optional().describe('stop after this many iterations without a better best validation score'),
  score_threshold: z.number().optional().describe('stop once the best validation mean reaches this'),
});

export const evolveSchema = z.strictObject({
  seed: z
    .record(z.string().regex(/^[A-Za-z_][\w-]*$/, 'a component name: letters, digits, _ -'), z.string().min(1))
    .describe('component name -> file holding its seed text'),
  data: z.strictObject({
    train: z.string().min(1).describe('JSONL with input, answer and optional feedback, id'),
    val: z.string().min(1),
    test: z.string().min(1).optional().describe('held out: scored for the seed and the best at the end, never used for selection'),
  }),
  task_model: modelReferenceSchema.optional().describe('the model the prompt steers; not needed with metric kind command'),
  reflection_model: modelReferenceSchema.optional().describe('the model that rewrites components; default llm.model'),
  metric: evolveMetricSchema,
  budget: evolveBudgetSchema,
  template: z
    .strictObject({
      system: z.string().optional().describe('system message; {component} and {input} are filled in. Default: the components, in order'),
      user: z.string().optional().describe('user message (default {input})'),
    })
    .optional(),
  minibatch_size: z.number().int().min(1).optional().describe('train examples per reflection (default 3)'),
  perfect_score: z.number().optional().describe('a minibatch scoring this everywhere is skipped (default 1)'),
  skip_perfect: z.boolean().optional().describe('skip perfect minibatches (default true)'),
  selector: z.enum(['pareto', 'current-best', 'epsilon-greedy', 'top-k-pareto']).optional().describe('parent selection (default pareto)'),
  epsilon: z.number().min(0).max(1).optional().describe('epsilon-greedy exploration rate (default 0.1)'),
  top_k: z.number().int().min(1).optional().describe('top-k-pareto: candidates kept (default 3)'),
  component_selector: z.enum(['round-robin', 'all']).optional().describe('which components one proposal rewrites (default round-robin)'),
  acceptance: z.enum(['strict', 'greater-or-equal']).optional().describe('child minibatch sum vs parent (default strict)'),
  frontier: z.enum(['instance', 'objective', 'hybrid', 'cartesian']).optional().describe('Pareto front keys (default instance)'),
  merge: z
    .union([
      z.boolean(),
      z.strictObject({
        enabled: z.boolean().optional(),
        max_merges: z.number().int().min(0).optional().describe('accepted merges at most (default 5)'),
        subsample: z.number().int().min(1).optional().describe('validation examples a merge is first judged on (default 5)'),
      }),
    ])
    .optional()
    .describe('combine two Pareto candidates component by component (default off)'),
  concurrency: z.number().int().min(1).max(256).optional().describe('evaluations in flight at once (default 8)'),
  random_seed: z.number().int().optional().describe('seed for every random choice (default 0)'),
  max_component_chars: z.number().int().min(1).optional().describe('a reflected text longer than this is rejected (default 20000)'),
  reflection: z
    .strictObject({
      prompt: z.string().optional().describe('file with a custom reflection prompt; placeholders {component}, {current_text}, {examples}, {rejected}'),
      max_output_tokens: z.number().int().min(16).optional().describe('default 4096'),
      attempts: z.number().int().min(1).max(5).optional().describe('reflection calls per proposal when a reply is unusable (default 2)'),
    })
    .optional(),
  task: z
    .strictObject({
      max_output_tokens: z.number().int().min(1).optional().describe('default 1024'),
      temperature: z.number().min(0).max(2).optional(),
    })
    .optional(),
});

export type EvolveSection = z.infer<typeof evolveSchema>;
export type EvolveMetricSection = z.infer<typeof evolveMetricSchema>;
