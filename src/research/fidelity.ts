/**
 * Multi-fidelity promotion (asynchronous successive halving, two rungs):
 * every new candidate is first screened at `research.fidelity.screen_budget`;
 * whenever a screened candidate ranks in the top `promote_top` of all
 * screened candidates so far, it is promoted: the same commit is queued again
 * at the full budget, and only that full-budget result can be kept.
 */
import type { FidelityConfig } from '../core/config/executor-config.ts';
import type { ResearchConfig } from '../core/config/research-config.ts';
import { defaultGraceMs } from '../core/config/research-config.ts';
import { improvement, type MetricGoal, type TrialRole } from '../core/trial.ts';
import type { TrialRecord } from '../ledger/records.ts';
import type { OpenedStudy } from './open-study.ts';

/** The budget a trial of `role` runs under: the screening budget for screens, the full one otherwise. */
export function budgetForRole(research: ResearchConfig, role: TrialRole): number {
  return role === 'screen' && research.fidelity ? research.fidelity.screenBudgetMs : research.budgetMs;
}

/**
 * Budget and grace of one trial, from what was recorded when it was queued
 * (a screen keeps its short budget even if it is re-run after a restart).
 */
export function trialLimits(research: ResearchConfig, trial: Pick<TrialRecord, 'role' | 'budgetMs'>): { budgetMs: number; graceMs: number } {
  const budgetMs = trial.budgetMs ?? budgetForRole(research, trial.role);
  if (budgetMs === research.budgetMs) return { budgetMs, graceMs: research.graceMs };
  return { budgetMs, graceMs: trial.role === 'screen' && research.fidelity ? research.fidelity.screenGraceMs : defaultGraceMs(budgetMs) };
}

/** The reason a successful screening run ends `discard`: only full-budget results compete for keep. */
export function screeningReason(budgetMs: number): string {
  return `screening run at ${budgetMs / 1000}s: ranked against other screens; only a promoted full-budget run can be kept`;
}

/** Screens that ran to the end (with or without a metric): the population a promotion is ranked in. */
function finishedScreens(trials: readonly TrialRecord[]): TrialRecord[] {
  return trials.filter((trial) => trial.role === 'screen' && (trial.status === 'discard' || trial.status === 'crash' || trial.status === 'timeout'));
}

/**
 * The screened trial to promote now, if any: the best-ranked screen within
 * the top `floor(n × promote_top)` of the n finished screens that has not
 * been promoted yet (ASHA's rule, so promotions start as soon as
 * 1/promote_top screens are in, never waiting for a full rung).
 *
 * @example
 * const screen = nextPromotion(ledger.trials(studyId), research.fidelity, 'minimize');
 */
export function nextPromotion(trials: readonly TrialRecord[], fidelity: FidelityConfig, goal: MetricGoal): TrialRecord | undefined {
  const screens = finishedScreens(trials);
  const top = Math.floor(screens.length * fidelity.promoteTop);
  if (top === 0) return undefined;
  const promoted = new Set(trials.filter((trial) => trial.meta?.promotedFrom !== undefined).map((trial) => trial.relatedTrialId));
  const ranked = screens
    .filter((trial) => trial.status === 'discard' && trial.metric !== null && Number.isFinite(trial.metric))
    .sort((a, b) => improvement(b.metric!, a.metric!, goal) || a.seq - b.seq);
  return ranked.slice(0, top).find((trial) => !promoted.has(trial.id));
}

/** Queue the full-budget run of a screened candidate (same commit, linked to the screen). Returns the new trial. */
export function promote(opened: OpenedStudy, screen: TrialRecord): TrialRecord {
  return opened.trials.queue({
    role: 'candidate',
    proposer: screen.proposer,
    description: screen.description,
    parentCommit: screen.parentCommit,
    relatedTrialId: screen.id,
    params: screen.params,
    paramsKey: screen.paramsKey,
    budgetMs: opened.research.budgetMs,
    seed: screen.seed,
    candidate: { commit: screen.candidateCommit!, diff: screen.diff ?? '', meta: { ...(screen.meta ?? {}), promotedFrom: screen.seq, screenMetric: screen.metric } },
  });
}
