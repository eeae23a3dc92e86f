/**
 * Trial statuses. `queued`/`running` are live; the rest are final.
 * - keep: better than the best so far (by the study's acceptance rule); committed on the study branch
 * - discard: ran fine, not better; also every repeat run (baseline repeat, rerun, incumbent check), which only adds a measurement
 * - crash: non-zero exit, no metric, or a metric that is NaN/inf
 * - timeout: killed at budget + grace
 * - invalid: touched files outside `editable`, changed a protected file, or a metric outside `valid_range`; never run or not trusted
 * - interrupted: stopped by Ctrl-C or a dead orchestrator; re-queued on resume
 */
export type TrialStatus = 'queued' | 'running' | 'keep' | 'discard' | 'crash' | 'timeout' | 'invalid' | 'interrupted';
export type FinalTrialStatus = Exclude<TrialStatus, 'queued' | 'running'>;

/**
 * Why a trial exists: the baseline, a candidate at the full budget (proposed,
 * re-run, rebased or promoted), or a screening run at the short budget of
 * `research.fidelity`, which can never be kept. Repeat runs, each with its
 * own STRATA_SEED and linked by `related_trial_id`, only measure noise and
 * are never kept themselves: `baseline-repeat` (the unmodified code again,
 * to estimate the run-to-run spread), `rerun` (a candidate or the incumbent
 * again, asked for by the acceptance rule), `incumbent-check` (the
 * incumbent again after `acceptance.recheck_every` decisions). `verify` runs
 * are `strata verify`'s and `strata finalize`'s measurements (the baseline,
 * the best, the best without one kept change, the final branch); they never
 * inform the study's own decisions.
 */
export type TrialRole = 'baseline' | 'candidate' | 'screen' | 'baseline-repeat' | 'rerun' | 'incumbent-check' | 'verify';

/** Roles of runs that only add a measurement of an existing commit (never kept, never re-queued by recovery, not counted by max_trials). */
export const REPEAT_ROLES: readonly TrialRole[] = ['baseline-repeat', 'rerun', 'incumbent-check', 'verify'];

/**
 * Why a trial ended the way it did, as a fact decisions can test (never a
 * reason string to parse):
 * - `run`: its run (and the acceptance rule) decided the status
 * - `proposal-failed`: the proposer failed (an error, an unusable reply); nothing ran
 * - `duplicate`: the same change is in flight or already ran on this parent; nothing ran
 * - `no-change`: the proposal changed nothing
 * - `forbidden-change`: the proposal changed files outside `editable`
 * - `stale`: it ran on an older best; re-applied onto the current one or in conflict with it
 * - `baseline-unreliable`: the baseline's repeats kept failing, so no candidate can be judged
 * - `stopped`: the user stopped the study while it was live
 * - `orchestrator-lost`: the orchestrator died while it was live (found by recovery)
 * - `not-started`: prepared or queued, and the session ended before it started
 * - `orchestrator-error`: Strata itself failed (git, the file system)
 */
export type TrialCause =
  | 'run'
  | 'proposal-failed'
  | 'duplicate'
  | 'no-change'
  | 'forbidden-change'
  | 'stale'
  | 'baseline-unreliable'
  | 'stopped'
  | 'orchestrator-lost'
  | 'not-started'
  | 'orchestrator-error';

/** Causes of a trial that never ran because its proposal was unusable: they neither count against max_trials nor pass for progress. */
export const FAILED_PROPOSAL_CAUSES: readonly TrialCause[] = ['proposal-failed', 'duplicate'];

/** Causes of an interruption: the trial is owed another attempt (or, for a measured trial, its decision). */
export const INTERRUPTION_CAUSES: readonly TrialCause[] = ['stopped', 'orchestrator-lost', 'not-started', 'orchestrator-error'];

export type StudyState = 'running' | 'paused' | 'done' | 'failed';

/**
 * Why a study stopped, for decisions made on it later (a pipeline deciding
 * whether an evaluation study ended for good):
 * `complete` (a budget or bound reached, nothing left), `user` (stopped by the user),
 * `baseline-failed`, `proposals-failing`, `model-unavailable`, `error`, `branch-moved`,
 * `oversight` (a person asked from outside the process: `strata pause`/`stop`, the dashboard, or an `oversight.pause_on` condition).
 */
export type StudyStopCause = 'complete' | 'user' | 'baseline-failed' | 'proposals-failing' | 'model-unavailable' | 'error' | 'branch-moved' | 'oversight';
export type StudyKind = 'research' | 'evolve' | 'pipeline';
export type MetricGoal = 'minimize' | 'maximize';

export const FINAL_STATUSES: readonly FinalTrialStatus[] = ['keep', 'discard', 'crash', 'timeout', 'invalid', 'interrupted'];

/** True when `candidate` is strictly better than `incumbent` under `goal`. */
export function isStrictlyBetter(candidate: number, incumbent: number, goal: MetricGoal): boolean {
  return goal === 'minimize' ? candidate < incumbent : candidate > incumbent;
}

/** Signed improvement of `value` over `reference`, positive when better. */
export function improvement(value: number, reference: number, goal: MetricGoal): number {
  return goal === 'minimize' ? reference - value : value - reference;
}
