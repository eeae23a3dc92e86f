import type { ResearchConfig } from './config/research-config.ts';
import type { Random } from './random.ts';
import type { ParamValues } from './search-space.ts';
import type { MetricGoal, TrialStatus } from './trial.ts';

/** A finished or running trial as a proposer sees it (never holdout results). */
export interface TrialSummary {
  seq: number;
  status: TrialStatus;
  description: string;
  metric: number | null;
  /** Improvement over the best at the time, positive = better; null when unknown. */
  delta: number | null;
  params: ParamValues | null;
  paramsKey: string | null;
  diff: string | null;
  logTail: string | null;
  parentCommit: string | null;
  candidateCommit: string | null;
}

/** What a proposer gets for one proposal. */
export interface ProposalContext {
  /** Sequence number of the trial this proposal will become. */
  seq: number;
  config: ResearchConfig;
  goal: MetricGoal;
  /** Finished trials, oldest first. */
  history: readonly TrialSummary[];
  /** The incumbent: the trial whose commit new candidates start from (the baseline at first). */
  best: TrialSummary | undefined;
  /** Trials running or queued now; parallel proposals must differ from these. */
  inFlight: readonly TrialSummary[];
  /**
   * Absolute path of the project folder inside this trial's worktree (the folder
   * holding strata.yaml). Proposers edit files here; the loop commits them.
   */
  projectDir: string;
  /** This proposal's own seeded generator (derived from the study seed and `seq`). */
  rng: Random;
  signal: AbortSignal;
}

/** What a proposer returns after editing files in `projectDir`. */
export interface Proposal {
  /** One line saying what changed and why; the commit message. */
  description: string;
  /** Parameters chosen (search proposer), also written to strata.params.json. */
  params?: ParamValues;
  /** Anything else worth keeping on the trial (hypothesis, model, attempts). */
  meta?: Record<string, unknown>;
}

/**
 * Makes candidates from a study's history.
 *
 * @example
 * const proposal = await proposer.propose(context);
 */
export interface Proposer {
  readonly name: string;
  propose(context: ProposalContext): Promise<Proposal>;
}
