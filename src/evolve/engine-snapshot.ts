import { Random } from '../core/random.ts';
import { BatchSampler, type BatchSamplerState } from './batch-sampler.ts';
import type { RejectedAttempt } from './reflection-prompt.ts';

/** What merge scheduling remembers between iterations. */
export interface MergeState {
  /** Merges scheduled and not yet attempted. */
  due: number;
  accepted: number;
  attempted: number;
  /** Merges are tried only right after an iteration that accepted a reflective child. */
  lastIterationAccepted: boolean;
  /** `i,j,ancestor` triples already tried. */
  tried: string[];
  /** Content hashes of merge children already produced. */
  produced: string[];
}

export interface ProposalCounts {
  accepted: number;
  rejected: number;
  skipped: number;
  failed: number;
  duplicate: number;
  mergeAccepted: number;
  mergeRejected: number;
}

/**
 * The engine's whole mutable state apart from the pool and the cache (which
 * have their own events). Written at the end of every iteration, so a killed
 * run continues with exactly the future it would have had.
 */
export interface EngineSnapshot {
  /** Iterations completed (0 = only the seed evaluated). */
  iteration: number;
  selectorRng: [number, number, number, number];
  mergeRng: [number, number, number, number];
  sampler: BatchSamplerState;
  /** Next component to rewrite, per pool index (round-robin). */
  roundRobin: Record<string, number>;
  merge: MergeState;
  /** Recent rejected rewrites per parent index, told to the reflector. */
  rejected: Record<string, RejectedAttempt[]>;
  /** Iterations since the best validation mean last rose. */
  sinceImprovement: number;
  /** Iterations in a row that made no metric call (everything cached, nothing learned). */
  idle: number;
  counts: ProposalCounts;
}

/** The state before the first iteration: generators derived from the run seed, one stream per concern. */
export function initialSnapshot(randomSeed: number): EngineSnapshot {
  return {
    iteration: 0,
    selectorRng: Random.fromSeed(`${randomSeed}:selector`).state(),
    mergeRng: Random.fromSeed(`${randomSeed}:merge`).state(),
    sampler: BatchSampler.create(`${randomSeed}:sampler`).state(),
    roundRobin: {},
    merge: { due: 0, accepted: 0, attempted: 0, lastIterationAccepted: false, tried: [], produced: [] },
    rejected: {},
    sinceImprovement: 0,
    idle: 0,
    counts: { accepted: 0, rejected: 0, skipped: 0, failed: 0, duplicate: 0, mergeAccepted: 0, mergeRejected: 0 },
  };
}
