import type { TrialSummary } from '../../core/proposer.ts';
import type { Observation, ParamValues } from '../../core/search-space.ts';
import type { MetricGoal } from '../../core/trial.ts';

/** The fields of a trial the search proposer reads. */
export type ObservedTrial = Pick<TrialSummary, 'status' | 'metric' | 'params' | 'paramsKey' | 'candidateCommit'>;

/** What a sampler is told about a study so far. */
export interface StudyObservations {
  /** One per candidate (commit), in the order candidates first finished; loss minimized. */
  observations: Observation[];
  /** Parameters of candidates still running or queued that have no finished run yet. */
  pending: ParamValues[];
  /** Keys of every parameter set tried or in flight. */
  avoid: Set<string>;
}

/**
 * Turn trials into sampler observations. Runs of the same candidate (its
 * baseline repeats, a confirmation rerun: same commit, same parameters)
 * become one observation whose loss is the mean of the runs that measured a
 * usable metric, so a lucky first run does not steer the search alone. A
 * candidate none of whose runs measured one is a crash (loss null).
 * Interrupted runs say nothing and are left out. Loss is the metric, negated
 * when the goal is to maximize it.
 *
 * @example
 * const { observations, pending, avoid } = studyObservations(context.history, context.inFlight, context.goal);
 */
export function studyObservations(history: readonly ObservedTrial[], inFlight: readonly ObservedTrial[], goal: MetricGoal): StudyObservations {
  const sign = goal === 'minimize' ? 1 : -1;
  const avoid = new Set<string>();
  const candidates = new Map<string, { params: ParamValues; losses: number[] }>();
  for (const trial of [...history, ...inFlight]) if (trial.paramsKey) avoid.add(trial.paramsKey);
  for (const trial of history) {
    if (!trial.params || trial.status === 'interrupted' || trial.status === 'running' || trial.status === 'queued') continue;
    const key = candidateKey(trial);
    const entry = candidates.get(key) ?? { params: trial.params, losses: [] };
    candidates.set(key, entry);
    const usable = trial.metric !== null && Number.isFinite(trial.metric) && trial.status !== 'invalid' && trial.status !== 'crash' && trial.status !== 'timeout';
    if (usable) entry.losses.push(sign * trial.metric!);
  }
  const observations = [...candidates.values()].map(({ params, losses }) => ({
    params,
    loss: losses.length === 0 ? null : losses.reduce((sum, loss) => sum + loss, 0) / losses.length,
  }));
  const pending: ParamValues[] = [];
  const pendingKeys = new Set<string>();
  for (const trial of inFlight) {
    if (!trial.params || (trial.status !== 'running' && trial.status !== 'queued')) continue;
    const key = candidateKey(trial);
    // A repeat of a finished candidate adds a run to its mean later; it is not a new point.
    if (candidates.has(key) || pendingKeys.has(key)) continue;
    pendingKeys.add(key);
    pending.push(trial.params);
  }
  return { observations, pending, avoid };
}

/** Runs of one candidate share its commit; without a commit, its parameters. */
function candidateKey(trial: ObservedTrial): string {
  return trial.candidateCommit !== null ? `commit:${trial.candidateCommit}` : `params:${trial.paramsKey ?? JSON.stringify(trial.params)}`;
}
