import type { ResearchConfig } from './config/research-config.ts';
import type { Random } from './random.ts';
import type { ParamValues } from './search-space.ts';
import type { MetricGoal, TrialCause, TrialStatus } from './trial.ts';

/** A finished or running trial as a proposer sees it (never holdout results). */
export interface TrialSummary {
  /** Ledger id (what `related_trial_id` and `llm_calls.trial_id` hold). */
  id: number;
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
  /** Why it ended so (`exit code 1`, `no metric: …`, the acceptance rule's reason); null while live. */
  reason: string | null;
  /** The same as a fact: `proposal-failed` when nothing ran because the proposal was unusable, … (null while live). */
  cause: TrialCause | null;
  /** The trial this one follows up (for a crash repair: the first trial of the idea). */
  relatedTrialId: number | null;
  /** Why a researcher vetoed this kept change (`strata veto`): it is off the branch, and must not be proposed again. */
  vetoed?: string;
  /** The researcher's notes (by number) this trial was proposed under. */
  notes?: readonly number[];
}

/** A researcher's note, as a proposer reads it (untrusted text: a proposer quotes it, never runs it). */
export interface GuidanceNote {
  id: number;
  text: string;
  author: string;
}

/**
 * What the researcher says now, read afresh for every proposal: their active
 * notes (`strata guide`) and the research program as the file reads now
 * (edits during a run are picked up at the next proposal).
 */
export interface ProposalGuidance {
  notes: readonly GuidanceNote[];
  /** The program text now, placeholders filled; absent when the study has no program (search). */
  program?: string;
  /** sha256 of the program text now (null without one), recorded on the trial. */
  programHash: string | null;
}

/** What a proposer gets for one proposal. */
export interface ProposalContext {
  /** Sequence number of the trial this proposal will become. */
  seq: number;
  /** Ledger id of that trial (it exists, queued): record model calls against it. */
  trialId: number;
  /**
   * Set when this proposal repairs a crashed trial (see `Proposer.repairTarget`):
   * `projectDir` then holds that trial's candidate, not the best.
   */
  repairOf?: TrialSummary;
  config: ResearchConfig;
  goal: MetricGoal;
  /** Finished trials, oldest first. */
  history: readonly TrialSummary[];
  /** The incumbent: the trial whose commit new candidates start from (the baseline at first). */
  best: TrialSummary | undefined;
  /** Trials running or queued now; parallel proposals must differ from these. */
  inFlight: readonly TrialSummary[];
  /**
   * Set when this proposal revises a speculative one made before a keep moved
   * the best (`executor.speculate`): `projectDir` then holds that change
   * re-applied onto the new best (`reapplied`), or the new best alone when it
   * conflicted. Keep it, improve it with the new result, or undo it.
   */
  revising?: { description: string; keptSeq: number; reapplied: boolean; conflicts: readonly string[] };
  /**
   * Absolute path of the project folder inside this trial's worktree (the folder
   * holding strata.yaml). Proposers edit files here; the loop commits them.
   */
  projectDir: string;
  /** This proposal's own seeded generator (derived from the study seed and `seq`). */
  rng: Random;
  signal: AbortSignal;
  /** The researcher's notes and the program as it reads now (see ProposalGuidance). */
  guidance?: ProposalGuidance;
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
  /**
   * Optional crash repair: asked before each new trial is queued, with every
   * trial so far (finished and in flight, oldest first). Return a crashed
   * trial to start the next proposal from its candidate commit instead of the
   * best (the new trial is linked to `relatedTrialId`, the idea's first
   * trial), or undefined for a fresh proposal from the best.
   */
  repairTarget?(history: readonly TrialSummary[]): { from: TrialSummary; relatedTrialId: number } | undefined;
}
