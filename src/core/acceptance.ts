import type { MetricGoal } from './trial.ts';

/** What an acceptance rule is asked about. */
export interface AcceptanceInput {
  goal: MetricGoal;
  /** The candidate's measurements: one run's metric, or every valid run of its commit so far. */
  candidate: number | readonly number[];
  /** The incumbent's measurements: its metric, or every valid run of its commit so far. */
  incumbent: number | readonly number[];
  /**
   * Repeated runs of other commits in the study, one array per commit (the
   * baseline's repeats, earlier confirmations). They only inform the estimate
   * of run-to-run noise; rules that ignore noise ignore them.
   */
  otherRuns?: readonly (readonly number[])[];
  /**
   * How many of the incumbent's runs (the last ones of `incumbent`) were measured after it was kept. The runs that got
   * it kept are biased in its favour (it was kept because they looked good); fresh ones are not. Default: all of them.
   */
  incumbentFreshRuns?: number;
  /**
   * Which look at this candidate: 1 after its first run, one more after each rerun this decision asked for. Default 1.
   * `Number.MAX_SAFE_INTEGER` asks for a final verdict on the runs as they are, with no rerun.
   */
  look?: number;
}

/** The numbers behind a decision, recorded on the trial so a `keep` can be audited. */
export interface AcceptanceEvidence {
  rule: string;
  candidate: { runs: number; mean: number };
  incumbent: { runs: number; mean: number };
  /** Improvement of the candidate's mean over the incumbent's, positive = better. */
  improvement: number;
  /** Run-to-run standard deviation pooled over every commit measured more than once, with its degrees of freedom. */
  noise?: { sd: number; df: number };
  /** The sequential test, when the rule made one. */
  test?: {
    name: string;
    look: number;
    maxLooks: number;
    /** (improvement − min_delta) / standard error. */
    statistic: number;
    /** The statistic must reach this to keep at this look. */
    threshold: number;
    /** One-sided p-value of "no improvement beyond min_delta". */
    pValue: number;
    /** Significance level spent at this look. */
    alpha: number;
    /** Two-sided interval for the improvement at the configured confidence. */
    interval: [number, number];
    confidence: number;
  };
}

/**
 * A rule's verdict. `keep: false` with `rerun` set means "not decided yet":
 * run the named side once more (with a new seed) and ask again with
 * `look + 1`. Without `rerun`, `keep` is final.
 */
export interface AcceptanceDecision {
  keep: boolean;
  reason: string;
  rerun?: 'candidate' | 'incumbent';
  evidence?: AcceptanceEvidence;
}

/**
 * Decides keep, discard, or "measure again" for a finished trial with a valid
 * metric: strict, threshold, noise-aware (see src/acceptance/).
 *
 * @example
 * const decision = acceptance.decide({ goal: 'minimize', candidate: [1.21, 1.2], incumbent: [1.3, 1.31, 1.29], look: 2 });
 * if (decision.rerun) scheduleRerun(decision.rerun);
 */
export interface Acceptance {
  readonly name: string;
  /** Runs of the unmodified baseline (each with its own seed) the rule wants before judging candidates; default 1. */
  readonly baselineRuns?: number;
  decide(input: AcceptanceInput): AcceptanceDecision;
}

/** The measurements of one side as an array. */
export function runsOf(value: number | readonly number[]): readonly number[] {
  return typeof value === 'number' ? [value] : value;
}
