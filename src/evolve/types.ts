import type { AcceptanceKind, ComponentSelectorKind, FrontierKind, ParentSelectorKind } from '../core/config/evolve-config.ts';
import type { ModelSpec } from '../core/config/llm-config.ts';
import type { IterationOutcome, Split } from '../core/evolve-state.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { ModelObject } from '../llm/resolve-model.ts';
import type { UsdBudget } from '../llm/usd-budget.ts';

/** What is evolved: named text components (e.g. `{ system_prompt: '…' }`). */
export type Candidate = Readonly<Record<string, string>>;

export type { IterationOutcome, Split } from '../core/evolve-state.ts';

/** What an evaluator says about one candidate on one example. Higher scores are better. */
export interface EvaluationResult {
  score: number;
  /** Text for the reflection model: what went wrong, domain facts, the expected answer. */
  feedback?: string;
  /** Anything JSON-able about the run (inputs, outputs, tool calls); shown to the reflection model. */
  trace?: unknown;
  /** Per-objective scores, for the objective, hybrid and cartesian frontiers. */
  objectives?: Record<string, number>;
}

/** Passed to every evaluation. */
export interface EvaluationContext {
  split: Split;
  exampleId: string;
  /** A seed fixed by (run seed, candidate, split, example): results must not depend on scheduling order. */
  seed: number;
  signal: AbortSignal;
  /** The study's ledger, id and shared USD budget, so evaluators can record their own model calls. */
  study: StudyBinding;
}

export interface StudyBinding {
  ledger: Ledger;
  studyId: number;
  usd: UsdBudget;
}

/**
 * Score one example for one candidate. A throw, or a result without a finite
 * score, scores 0 as a failed evaluation with the reason as feedback; a seed
 * that fails on every validation example stops the study (EvaluatorError).
 * Honor `context.signal`: a stop waits for the evaluations in flight.
 */
export type Evaluate<E> = (candidate: Candidate, example: E, context: EvaluationContext) => Promise<EvaluationResult>;

/** The model that rewrites components: an AI SDK model, a `provider:model` string, or a full spec. */
export type ReflectionModel = ModelObject | string | ModelSpec;

/** When to stop. Unset limits do not apply; at least one finite limit is required. */
export interface EvolveBudget {
  /** Example evaluations (train minibatches and validation), reserved before each batch: never exceeded. */
  metricCalls?: number;
  /** LLM spend in USD across reflection, task and judge models: never crossed (each call reserves first). */
  usd?: number;
  /** Wall time of this invocation. */
  maxTimeMs?: number;
  /** Iterations without a better best validation mean. */
  patience?: number;
  /** Stop once the best validation mean reaches this. */
  scoreThreshold?: number;
}

/** One line of the reflective dataset shown to the reflection model. */
export type ReflectiveRecord = Record<string, unknown>;

export interface EngineOptions {
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
  reflection: { prompt?: string; maxOutputTokens: number; attempts: number };
  /** Changes to the evaluator that should invalidate cached scores. */
  evaluatorVersion: string;
}

/** A member of the pool. */
export interface PoolCandidate {
  idx: number;
  components: Candidate;
  /** Pool indices of the parents (none for the seed; two for a merge). */
  parents: number[];
  origin: 'seed' | 'reflective' | 'merge';
  hash: string;
  valScores: Record<string, number>;
  valMean: number;
  /** Iteration that produced it (0 = seed). */
  iteration: number;
  /** Metric calls spent when it joined. */
  foundAtMetricCalls: number;
  description: string;
}

export type StopReason =
  | 'metric_calls'
  | 'usd'
  | 'time'
  | 'patience'
  | 'score_threshold'
  | 'converged'
  | 'stop_file'
  | 'interrupted'
  | 'llm_unavailable'
  /** Paused for review: `strata pause` from another process, or an `oversight.pause_on` condition. */
  | 'paused';

/** What the engine tells oversight after each iteration it commits (the seed's scoring included). */
export interface IterationReport {
  iteration: number;
  outcome: IterationOutcome;
  /** The candidate that became the best on the validation set, and the best it replaced; null when the best did not change (and for the seed). */
  newBest: { idx: number; valMean: number; description: string; previousIdx: number; previousValMean: number } | null;
  /** Evaluations this iteration ran (cache hits excluded), and how many of them failed (the evaluator threw or gave no score). */
  evaluations: { made: number; failed: number };
  metricCalls: number;
  /** Wall time of this invocation so far. */
  elapsedMs: number;
}

/**
 * Oversight's hooks into the evolve loop (implemented in
 * src/oversight/evolve-oversight.ts): told of each committed iteration, and
 * asked before each new one whether to pause.
 */
export interface EngineOversight {
  /** After each committed iteration; `testMean` scores a pool member on the held-out test split (cached, outside the metric-call budget). */
  afterIteration(report: IterationReport, tools: { testMean(idx: number): Promise<number | null> }): Promise<void>;
  /** Why to pause now, if a pause is due: the run ends before its next iteration. */
  pauseDue(): string | undefined;
}

/** Progress, for printing. A throwing listener is reported in `warnings`, never stops the run. */
export type EvolveProgress =
  | { kind: 'started'; resumed: boolean; valSize: number; trainSize: number; proposals: { min: number; max: number } | null; warnings: string[] }
  | { kind: 'seed_evaluated'; valMean: number }
  | {
      kind: 'iteration';
      iteration: number;
      outcome: IterationOutcome;
      parent: number | null;
      child: number | null;
      detail: string;
      bestValMean: number;
      bestIdx: number;
      frontSize: number;
      poolSize: number;
      metricCalls: number;
      usd: number;
    }
  | { kind: 'stopped'; reason: StopReason; detail: string };

