/**
 * What the ledger holds about a study's verifications, read back: the plans
 * (`verify.planned`), whether each finished, the runs of each arm (trials of
 * role `verify`) and the comparisons they support. Everything here is
 * computed from trials on every read, so a report can never show a number
 * no run backs.
 */
import type { MetricGoal } from '../core/trial.ts';
import { mean } from '../acceptance/noise-estimate.ts';
import type { LedgerEvents, VerifyArm } from '../ledger/events.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { StudyRecord, TrialRecord } from '../ledger/records.ts';
import { welchComparison, type Comparison } from './welch-comparison.ts';

export type VerifyPlan = LedgerEvents['verify.planned'] & { finished: { complete: boolean; reason: string | null } | null };

/** A kept change on the best lineage, oldest first. */
export interface KeptChange {
  trial: TrialRecord;
  parentCommit: string;
  keptCommit: string;
}

export interface ArmResult {
  arm: VerifyArm;
  /** Valid metrics, in run order. */
  metrics: number[];
  /** Runs that ended without a valid metric (crash, timeout, invalid). */
  failed: number;
  mean: number | null;
}

/** What a change is worth: the best's improvement over the best without it. */
export interface Contribution {
  change: TrialRecord;
  arm: VerifyArm | null;
  comparison: Comparison | null;
  /** needed: leaving it out costs more than the noise; not-needed: within the noise; harmful: leaving it out helps; conflict: could not be left out. */
  verdict: 'needed' | 'not-needed' | 'harmful' | 'conflict' | 'unmeasured';
  conflict: string | null;
}

export interface VerifyResult {
  plan: VerifyPlan;
  goal: MetricGoal;
  arms: ArmResult[];
  /** The best (or, for finalize, the final branch) against the baseline. */
  overall: Comparison | null;
  contributions: Contribution[];
  runs: { done: number; planned: number; wallMs: number };
  /** From runVerify: why this session stopped before every run had a result (--max-time, Ctrl-C); null when complete, absent when read back. */
  stopped?: string | null;
}

/** The event types a study's verifications are read from. */
export const VERIFY_EVENT_TYPES = ['verify.planned', 'verify.finished'] as const;

/** Every verify of the study, oldest first. */
export function verifyPlans(ledger: Ledger, studyId: number): VerifyPlan[] {
  return plansFromEvents(ledger.eventLog.ofTypes(studyId, VERIFY_EVENT_TYPES));
}

/**
 * The plans in a study's verify events (oldest first): what a read-only reader
 * (the dashboard, the report) gets from `reader.events(id, VERIFY_EVENT_TYPES)`.
 */
export function plansFromEvents(events: readonly { type: string; payload: unknown }[]): VerifyPlan[] {
  const plans = new Map<number, VerifyPlan>();
  for (const event of events) {
    if (event.type === 'verify.planned') {
      const payload = event.payload as LedgerEvents['verify.planned'];
      plans.set(payload.verifyId, { ...payload, finished: null });
    } else if (event.type === 'verify.finished') {
      const payload = event.payload as LedgerEvents['verify.finished'];
      const plan = plans.get(payload.verifyId);
      if (plan) plan.finished = { complete: payload.complete, reason: payload.reason };
    }
  }
  return [...plans.values()];
}

/** The trials of one arm of one verify, in run order. */
export function armTrials(trials: readonly TrialRecord[], verifyId: number, armKey: string): TrialRecord[] {
  return trials.filter((trial) => trial.role === 'verify' && trial.meta?.verify === verifyId && trial.meta?.arm === armKey);
}

/** Runs that count: finished with a valid metric, or finished without one (a failure is a result too; interruptions are not). */
export function settledRuns(trials: readonly TrialRecord[]): TrialRecord[] {
  return trials.filter((trial) => trial.status !== 'queued' && trial.status !== 'running' && trial.status !== 'interrupted');
}

/** The kept changes from the baseline to `best`, oldest first (the baseline itself excluded). */
export function keptLineage(trials: readonly TrialRecord[], best: TrialRecord | undefined, baseCommit: string): KeptChange[] {
  const byKept = new Map(trials.filter((trial) => trial.keptCommit !== null && trial.role !== 'baseline').map((trial) => [trial.keptCommit!, trial]));
  const lineage: KeptChange[] = [];
  let current = best && best.role !== 'baseline' ? best : undefined;
  while (current && current.keptCommit !== null && current.parentCommit !== null && lineage.length <= trials.length) {
    lineage.unshift({ trial: current, parentCommit: current.parentCommit, keptCommit: current.keptCommit });
    if (current.parentCommit === baseCommit) break;
    current = byKept.get(current.parentCommit);
  }
  return lineage;
}

/**
 * The verify's figures from its trials. `trials` must hold the study's kept
 * trials (the lineage) and its `verify` trials; every trial of the study will do.
 *
 * @example
 * const result = verifyResult(ledger.trials(study.id), study, plan, 'minimize');
 * for (const c of result.contributions) console.log(c.change.seq, c.verdict, c.comparison?.interval);
 */
export function verifyResult(trials: readonly TrialRecord[], study: StudyRecord, plan: VerifyPlan, goal: MetricGoal): VerifyResult {
  const byId = new Map(trials.map((trial) => [trial.id, trial]));
  const trialOf = (id: number): TrialRecord => {
    const trial = byId.get(id);
    if (!trial) throw new Error(`verify ${plan.verifyId} of study ${study.name} names trial ${id}, which the trials given do not hold`);
    return trial;
  };
  const arms = plan.arms.map((arm): ArmResult => {
    const settled = settledRuns(armTrials(trials, plan.verifyId, arm.key));
    const metrics = settled.filter((trial) => trial.status === 'discard' && trial.metric !== null).map((trial) => trial.metric!);
    return { arm, metrics, failed: settled.length - metrics.length, mean: metrics.length > 0 ? mean(metrics) : null };
  });
  const byKey = new Map(arms.map((result) => [result.arm.key, result]));
  const baseline = byKey.get('baseline');
  const top = byKey.get(plan.purpose === 'finalize' ? 'final' : 'best');
  const overall = baseline && top ? welchComparison(top.metrics, baseline.metrics, goal) : null;
  const best = byKey.get('best');
  const contributions: Contribution[] = [];
  if (plan.purpose === 'verify') {
    const changeIds = [...plan.arms.filter((arm) => arm.kind === 'without').map((arm) => arm.changeTrialId!), ...plan.conflicts.map((conflict) => conflict.changeTrialId)];
    const bestTrial = trialOf(plan.bestTrialId);
    const order = keptLineage(trials, bestTrial, study.baseCommit!).map((change) => change.trial.id);
    changeIds.sort((a, b) => order.indexOf(a) - order.indexOf(b));
    for (const id of changeIds) {
      const change = trialOf(id);
      const conflict = plan.conflicts.find((item) => item.changeTrialId === id);
      if (conflict) {
        contributions.push({ change, arm: null, comparison: null, verdict: 'conflict', conflict: conflict.message });
        continue;
      }
      const without = arms.find((result) => result.arm.kind === 'without' && result.arm.changeTrialId === id)!;
      const comparison = best ? welchComparison(best.metrics, without.metrics, goal) : null;
      contributions.push({ change, arm: without.arm, comparison, verdict: verdictOf(comparison), conflict: null });
    }
  }
  const all = trials.filter((trial) => trial.role === 'verify' && trial.meta?.verify === plan.verifyId);
  const done = settledRuns(all).length;
  return {
    plan,
    goal,
    arms,
    overall,
    contributions,
    runs: { done, planned: plan.arms.length * plan.repeats, wallMs: all.reduce((total, trial) => total + (trial.wallMs ?? 0), 0) },
  };
}

/** Needed when the whole interval is a gain; harmful when it is a loss; otherwise not needed (within the noise). */
function verdictOf(comparison: Comparison | null): Contribution['verdict'] {
  if (comparison === null) return 'unmeasured';
  if (comparison.interval[0] > 0) return 'needed';
  if (comparison.interval[1] < 0) return 'harmful';
  return 'not-needed';
}
