import type { Executor } from '../core/executor.ts';
import { REPEAT_ROLES } from '../core/trial.ts';
import type { TrialRecord } from '../ledger/records.ts';
import { awaitsDecision, type RunFacts } from '../study/study-trials.ts';
import { budgetForRole } from './fidelity.ts';
import type { OpenedStudy } from './open-study.ts';
import { owedByVeto } from '../oversight/vetoed-changes.ts';
import { killOrphanedTrials } from './orphan-trials.ts';
import type { RecoveryReport } from './research-observer.ts';

/**
 * Make a study consistent after any stop, clean or not:
 * - a trial whose run was measured but not yet decided stays live: its
 *   decision resumes (its reruns and confirmations are counted from the
 *   ledger, so none is lost or run twice); a measured repeat run has no
 *   decision of its own and is settled with its measurement;
 * - a cluster job still running is followed, not started again;
 * - every other live trial becomes `interrupted` (`orchestrator-lost`), and
 *   each interrupted trial with a candidate (or the baseline) gets exactly one
 *   new attempt — repeat runs excepted: the decision that needs them runs
 *   them again — and so does one a veto queued in place of a conflicted keep,
 *   proposed or not (a fresh trial never proposed is not: the proposer
 *   proposes again anyway);
 * - processes of lost trials still running (the orchestrator was killed
 *   alone) are killed, and stale worktrees removed;
 * - the study branch is moved to the ledger's best when a kill landed between
 *   the ledger write and the ref update; a branch moved by someone else is
 *   reported (`branchMoved`), never overwritten.
 */
export async function recoverStudy(opened: OpenedStudy, executor?: Executor): Promise<RecoveryReport> {
  const { trials, study, repo } = opened;
  const report: RecoveryReport = { interrupted: [], requeued: [], reattached: [], resumedDecisions: [], settledRepeats: [], killedProcesses: 0, prunedWorktrees: [], branchRepaired: false, branchMoved: null };
  const keptWorktrees: string[] = [];

  for (const trial of trials.all()) {
    if (trial.status !== 'running' && trial.status !== 'queued') continue;
    if (awaitsDecision(trial)) {
      // A repeat has no decision of its own: its measurement is what it was for. Settle it with that measurement (its
      // decision counts it); live, nothing would ever run it again, and it would hold a place under max_trials.
      if (REPEAT_ROLES.includes(trial.role)) {
        trials.finish(trial, 'discard', 'run', `${repeatLabel(trials, trial)}: measured ${opened.research.metric.name}=${trial.metric} (settled after its orchestrator stopped)`, measuredFacts(trial));
        report.settledRepeats.push(trial.seq);
        continue;
      }
      report.resumedDecisions.push(trial.seq);
      continue;
    }
    // A cluster job keeps running when the orchestrator dies: follow it instead of running the trial again.
    if (trial.status === 'running' && trial.externalId !== null && executor?.isActive && trial.executor === executor.kind && (await executor.isActive(trial.externalId))) {
      report.reattached.push(trial.seq);
      if (trial.worktree) keptWorktrees.push(trial.worktree);
      continue;
    }
    trials.interrupt(trial, 'orchestrator-lost', `the orchestrator stopped while this trial was ${trial.status}`);
    report.interrupted.push(trial.seq);
  }

  const all = trials.all();
  const retried = retriedTrials(all);
  const owed = owedByVeto(opened.ledger, study.id, all);
  for (const trial of all) {
    if (trial.status !== 'interrupted' || retried.has(trial.id)) continue;
    // A repeat only adds a measurement to a decision; the decision (resumed or re-run) asks for the runs it still needs.
    if (REPEAT_ROLES.includes(trial.role)) continue;
    // Never proposed: the proposer will propose again, unless the trial stands for a keep a veto could not re-apply.
    if (trial.role !== 'baseline' && trial.candidateCommit === null && !owed.has(trial.id)) continue;
    report.requeued.push(trials.retry(trial, budgetForRole(opened.research, trial.role)).seq);
  }

  // Trial processes of the dead orchestrator still running (it was killed alone): they would hold the GPU the new attempt needs.
  const lost = new Set(trials.all().filter((trial) => report.interrupted.includes(trial.seq)).map((trial) => trial.id));
  report.killedProcesses = (await killOrphanedTrials(study.name, opened.worktreesDir, lost)).length;
  report.prunedWorktrees = await repo.pruneWorktrees(opened.worktreesDir, keptWorktrees);

  const best = trials.best();
  const expected = best?.keptCommit ?? study.baseCommit;
  if (expected) {
    const tip = await repo.resolveCommit(`refs/heads/${opened.branch}`);
    if (tip !== expected) {
      if (tip === null || (await repo.isAncestor(tip, expected))) {
        await repo.moveRef(`refs/heads/${opened.branch}`, expected, tip ?? undefined);
        report.branchRepaired = true;
      } else {
        report.branchMoved = { tip, best: expected };
      }
    }
  }
  return report;
}

/** "repeat of #4" (the measured commit's trial), for a settled repeat's reason. */
function repeatLabel(trials: OpenedStudy['trials'], trial: TrialRecord): string {
  if (trial.relatedTrialId === null) return `${trial.role}`;
  return `${trial.role} of #${trials.get(trial.relatedTrialId).seq}`;
}

/** The facts of a measured trial's run, as the ledger holds them. */
function measuredFacts(trial: TrialRecord): RunFacts {
  return { metric: trial.metric, metrics: trial.metrics, exitCode: trial.exitCode, signal: trial.signal, wallMs: trial.wallMs, peakRssKb: trial.peakRssKb, logTail: trial.logTail };
}

/**
 * Trials that already have a new attempt. Ledgers written before retries were
 * recorded apart (schema < 3) linked an attempt by related_trial_id with
 * meta.rerunOf naming the earlier attempt's seq.
 */
function retriedTrials(trials: readonly TrialRecord[]): Set<number> {
  const bySeq = new Map(trials.map((trial) => [trial.seq, trial]));
  const retried = new Set<number>();
  for (const trial of trials) {
    if (trial.retryOf !== null) retried.add(trial.retryOf);
    else if (trial.attempt > 1 && trial.relatedTrialId !== null && bySeq.get(Number(trial.meta?.rerunOf))?.id === trial.relatedTrialId) retried.add(trial.relatedTrialId);
  }
  return retried;
}
