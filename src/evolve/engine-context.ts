import type { BatchEvaluatorDeps } from './batch-evaluator.ts';
import type { CandidatePool } from './candidate-pool.ts';
import type { EngineSnapshot } from './engine-snapshot.ts';
import type { CachedEvaluation, EvaluationCache } from './evaluation-cache.ts';
import type { Reflector } from './reflector.ts';
import type { Candidate, EngineOptions, IterationOutcome, ReflectiveRecord, StopReason } from './types.ts';

/** The datasets by id, in their given order. */
export interface EngineData<E> {
  trainIds: string[];
  valIds: string[];
  testIds: string[];
  train: Map<string, E>;
  val: Map<string, E>;
  test: Map<string, E>;
}

/** Everything one iteration step reads and (through `snapshot`, a working copy) changes. */
export interface StepContext<E> {
  options: EngineOptions;
  pool: CandidatePool;
  cache: EvaluationCache;
  snapshot: EngineSnapshot;
  batch: BatchEvaluatorDeps<E>;
  data: EngineData<E>;
  reflector: Reflector;
  reflectiveRecord: (example: E, result: CachedEvaluation, component: string) => ReflectiveRecord;
  metricLimit: number | null;
  signal: AbortSignal;
}

/** A candidate to add to the pool when the iteration commits. */
export interface NewCandidate {
  components: Candidate;
  hash: string;
  parents: number[];
  origin: 'reflective' | 'merge';
  description: string;
  validation: CachedEvaluation[];
}

/** How an iteration ended, before it is written. */
export interface StepRecord {
  outcome: IterationOutcome;
  parentIdx: number | null;
  component: string | null;
  detail: string;
  parentScores: number[] | null;
  childScores: number[] | null;
  added?: NewCandidate;
}

/** An iteration that could not start within the budget. */
export interface StepStop {
  stop: StopReason;
  detail: string;
}

/** True when `worstCase` more metric calls, on top of those made before iteration `iteration`, stay within the limit. */
export function affordable<E>(context: StepContext<E>, iteration: number, worstCase: number): boolean {
  return context.metricLimit === null || context.cache.metricCallsBefore(iteration) + worstCase <= context.metricLimit;
}

export const sum = (values: readonly number[]): number => values.reduce((total, value) => total + value, 0);
