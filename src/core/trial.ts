/**
 * Trial statuses. `queued`/`running` are live; the rest are final.
 * - keep: better than the best so far (by the study's acceptance rule); committed on the study branch
 * - discard: ran fine, not better
 * - crash: non-zero exit, no metric, or a metric that is NaN/inf
 * - timeout: killed at budget + grace
 * - invalid: touched files outside `editable` (or, later, broke integrity checks); never run or not trusted
 * - interrupted: stopped by Ctrl-C or a dead orchestrator; re-queued on resume
 */
export type TrialStatus = 'queued' | 'running' | 'keep' | 'discard' | 'crash' | 'timeout' | 'invalid' | 'interrupted';
export type FinalTrialStatus = Exclude<TrialStatus, 'queued' | 'running'>;

/**
 * Why a trial exists: the baseline, a candidate at the full budget (proposed,
 * re-run, rebased or promoted), or a screening run at the short budget of
 * `research.fidelity`, which can never be kept.
 */
export type TrialRole = 'baseline' | 'candidate' | 'screen';

export type StudyState = 'running' | 'paused' | 'done' | 'failed';
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
