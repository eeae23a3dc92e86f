import { parseDuration } from '../duration.ts';
import type { ConfigIssue } from '../errors.ts';
import type { EvolveSection } from './evolve-schema.ts';
import { normalizeModelReference, type LlmConfig, type ModelSpec } from './llm-config.ts';

export type ParentSelectorKind = 'pareto' | 'current-best' | 'epsilon-greedy' | 'top-k-pareto';
export type ComponentSelectorKind = 'round-robin' | 'all';
export type AcceptanceKind = 'strict' | 'greater-or-equal';
export type FrontierKind = 'instance' | 'objective' | 'hybrid' | 'cartesian';

/** How the built-in evaluator scores one output. */
export type EvolveMetric =
  | { kind: 'exact' | 'contains'; ignoreCase: boolean }
  | { kind: 'regex'; pattern: string; ignoreCase: boolean }
  | { kind: 'json-field'; field: string }
  | { kind: 'judge'; rubric: string; model: ModelSpec }
  | { kind: 'command'; command: string; timeoutMs: number };

/** The `evolve:` section after normalization. Paths are as written (relative to the config file). */
export interface EvolveConfig {
  seedFiles: Record<string, string>;
  data: { train: string; val: string; test?: string };
  taskModel?: ModelSpec;
  reflectionModel: ModelSpec;
  metric: EvolveMetric;
  budget: { metricCalls?: number; usd?: number; maxTimeMs?: number; patience?: number; scoreThreshold?: number };
  template: { system?: string; user: string };
  minibatchSize: number;
  perfectScore: number;
  skipPerfect: boolean;
  selector: ParentSelectorKind;
  epsilon: number;
  topK: number;
  componentSelector: ComponentSelectorKind;
  acceptance: AcceptanceKind;
  frontier: FrontierKind;
  merge: { enabled: boolean; maxMerges: number; subsample: number };
  concurrency: number;
  randomSeed: number;
  maxComponentChars: number;
  reflection: { promptFile?: string; maxOutputTokens: number; attempts: number };
  task: { maxOutputTokens: number; temperature?: number };
}

/** The defaults, in one place, so "explicit defaults equal omitted ones" holds by construction. */
export const EVOLVE_DEFAULTS = {
  minibatchSize: 3,
  perfectScore: 1,
  skipPerfect: true,
  selector: 'pareto',
  epsilon: 0.1,
  topK: 3,
  componentSelector: 'round-robin',
  acceptance: 'strict',
  frontier: 'instance',
  maxMerges: 5,
  mergeSubsample: 5,
  concurrency: 8,
  randomSeed: 0,
  maxComponentChars: 20_000,
  reflectionMaxOutputTokens: 4096,
  reflectionAttempts: 2,
  taskMaxOutputTokens: 1024,
  commandTimeoutMs: 60_000,
} as const;

/** Normalize the evolve section (with the llm section, whose model is the default reflection model). */
export function normalizeEvolve(section: EvolveSection, llm: LlmConfig | undefined, issues: ConfigIssue[]): EvolveConfig {
  const d = EVOLVE_DEFAULTS;
  if (Object.keys(section.seed).length === 0) issues.push({ path: 'evolve.seed', message: 'name at least one component: {system_prompt: prompts/system.txt}' });

  // A model without an endpoint of its own uses the llm: section's when it is of the same provider.
  const taskModel = section.task_model === undefined ? undefined : normalizeModelReference(section.task_model, 'evolve.task_model', issues, llm?.model);
  if (!taskModel && section.metric.kind !== 'command') {
    issues.push({ path: 'evolve.task_model', message: `missing: metric kind ${section.metric.kind} runs the prompt on a task model (e.g. openai:gpt-4.1-mini)` });
  }
  let reflectionModel: ModelSpec;
  if (section.reflection_model !== undefined) reflectionModel = normalizeModelReference(section.reflection_model, 'evolve.reflection_model', issues, llm?.model);
  else if (llm) reflectionModel = llm.model;
  else {
    issues.push({ path: 'evolve.reflection_model', message: 'missing: name the model that rewrites the prompt (e.g. anthropic:claude-sonnet-4-5), or set llm.model' });
    reflectionModel = { name: 'missing:missing', provider: 'openai', modelId: 'missing' };
  }

  const metric = normalizeMetric(section.metric, reflectionModel, issues, llm?.model);
  const budget = section.budget;
  const maxTimeMs = budget.max_time === undefined ? undefined : (parseDuration(budget.max_time) ?? undefined);
  // The tighter of the two caps wins: each was written as a limit.
  const usdCaps = [budget.usd, llm?.maxUsd].filter((v): v is number => v !== undefined && v > 0);
  const usd = usdCaps.length > 0 ? Math.min(...usdCaps) : undefined;
  if (budget.metric_calls === undefined && usd === undefined && maxTimeMs === undefined) {
    issues.push({ path: 'evolve.budget', message: 'set metric_calls, usd or max_time: an evolve run needs a finite budget' });
  }

  const components = Object.keys(section.seed);
  const template = { ...(section.template?.system !== undefined ? { system: section.template.system } : {}), user: section.template?.user ?? '{input}' };
  for (const [key, text] of Object.entries(template)) {
    for (const match of text.matchAll(/\{([A-Za-z_][\w-]*)\}/g)) {
      if (match[1] !== 'input' && !components.includes(match[1]!)) {
        issues.push({ path: `evolve.template.${key}`, message: `{${match[1]}} is neither {input} nor a component (${components.join(', ')})` });
      }
    }
  }

  const merge = section.merge;
  const mergeObject = typeof merge === 'object' ? merge : undefined;
  return {
    seedFiles: section.seed,
    data: { train: section.data.train, val: section.data.val, ...(section.data.test ? { test: section.data.test } : {}) },
    ...(taskModel ? { taskModel } : {}),
    reflectionModel,
    metric,
    budget: {
      ...(budget.metric_calls !== undefined ? { metricCalls: budget.metric_calls } : {}),
      ...(usd !== undefined ? { usd } : {}),
      ...(maxTimeMs !== undefined ? { maxTimeMs } : {}),
      ...(budget.patience !== undefined ? { patience: budget.patience } : {}),
      ...(budget.score_threshold !== undefined ? { scoreThreshold: budget.score_threshold } : {}),
    },
    template,
    minibatchSize: section.minibatch_size ?? d.minibatchSize,
    perfectScore: section.perfect_score ?? d.perfectScore,
    skipPerfect: section.skip_perfect ?? d.skipPerfect,
    selector: section.selector ?? d.selector,
    epsilon: section.epsilon ?? d.epsilon,
    topK: section.top_k ?? d.topK,
    componentSelector: section.component_selector ?? d.componentSelector,
    acceptance: section.acceptance ?? d.acceptance,
    frontier: section.frontier ?? d.frontier,
    merge: {
      enabled: merge === true || (mergeObject !== undefined && mergeObject.enabled !== false),
      maxMerges: mergeObject?.max_merges ?? d.maxMerges,
      subsample: mergeObject?.subsample ?? d.mergeSubsample,
    },
    concurrency: section.concurrency ?? d.concurrency,
    randomSeed: section.random_seed ?? d.randomSeed,
    maxComponentChars: section.max_component_chars ?? d.maxComponentChars,
    reflection: {
      ...(section.reflection?.prompt !== undefined ? { promptFile: section.reflection.prompt } : {}),
      maxOutputTokens: section.reflection?.max_output_tokens ?? d.reflectionMaxOutputTokens,
      attempts: section.reflection?.attempts ?? d.reflectionAttempts,
    },
    task: {
      maxOutputTokens: section.task?.max_output_tokens ?? d.taskMaxOutputTokens,
      ...(section.task?.temperature !== undefined ? { temperature: section.task.temperature } : {}),
    },
  };
}

function normalizeMetric(metric: EvolveSection['metric'], reflectionModel: ModelSpec, issues: ConfigIssue[], section: ModelSpec | undefined): EvolveMetric {
  switch (metric.kind) {
    case 'exact':
    case 'contains':
      return { kind: metric.kind, ignoreCase: metric.ignore_case ?? true };
    case 'regex':
      try {
        new RegExp(metric.pattern);
      } catch (error) {
        issues.push({ path: 'evolve.metric.pattern', message: `not a valid regular expression: ${(error as Error).message}` });
      }
      return { kind: 'regex', pattern: metric.pattern, ignoreCase: metric.ignore_case ?? true };
    case 'json-field':
      return { kind: 'json-field', field: metric.field };
    case 'judge':
      return { kind: 'judge', rubric: metric.rubric, model: metric.model === undefined ? reflectionModel : normalizeModelReference(metric.model, 'evolve.metric.model', issues, section) };
    case 'command':
      return { kind: 'command', command: metric.command, timeoutMs: (metric.timeout === undefined ? null : parseDuration(metric.timeout)) ?? EVOLVE_DEFAULTS.commandTimeoutMs };
  }
}
