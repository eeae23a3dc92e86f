/**
 * The evolve engine's persisted state, as plain types. They are payloads of
 * ledger events (`evolve.iteration_finished` carries the snapshot), so they
 * live below the ledger; the engine in `evolve/` re-exports them where it
 * defines the behaviour around them.
 */

/** Which part of the data an evaluation belongs to; the cache keeps them apart. */
export type Split = 'train' | 'val' | 'test';

/** How an iteration of the engine ended. */
export type IterationOutcome =
  | 'seed'
  | 'accepted'
  | 'rejected'
  | 'skipped_perfect'
  | 'reflection_failed'
  | 'duplicate'
  | 'merge_accepted'
  | 'merge_rejected';

/** Everything the batch sampler needs to continue exactly where it stopped. */
export interface BatchSamplerState {
  rng: [number, number, number, number];
  /** This epoch's order: a shuffle of the ids, padded to a multiple of the batch size. */
  order: string[];
  /** Batches already taken from `order`. */
  position: number;
  epoch: number;
  /** How often each id was handed out so far. */
  usage: Record<string, number>;
  /** The id list the order was built from; a different list (the dataset grew) starts a new epoch. */
  idsKey: string;
}

/** A rewrite the engine rejected, told to the reflector next time. */
export interface RejectedAttempt {
  component: string;
  excerpt: string;
  reason: string;
}

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

/** How the engine's proposals ended so far. */
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
