import { Random } from '../core/random.ts';
import type { EngineSnapshot } from '../core/evolve-state.ts';
import { BatchSampler } from './batch-sampler.ts';

export type { EngineSnapshot, MergeState, ProposalCounts } from '../core/evolve-state.ts';

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
