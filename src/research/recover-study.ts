import type { Executor } from '../core/executor.ts';
import type { TrialRecord } from '../ledger/records.ts';
import { budgetForRole } from './fidelity.ts';
import type { OpenedStudy } from './open-study.ts';
import type { RecoveryReport } from './research-observer.ts';

/**
 * Make a study consistent after any stop, clean or not: trials left running
 * or queued by a dead orchestrator become `interrupted`; every interrupted
 * trial whose candidate exists is queued again (once); stale worktrees are
 * removed; the study branch is moved to the ledger's best if a kill landed
 * between the ledger write and the ref update.
 */
export async function recoverStudy(opened: OpenedStudy, executor?: Executor): Promise<RecoveryReport> {
  const { ledger, study, repo } = opened;
  const report: RecoveryReport = { interrupted: [], requeued: [], reattached: [], prunedWorktrees: [], branchRepaired: false };
  const keptWorktrees: string[] = [];

  for (const trial of ledger.trials(study.id)) {
    if (trial.status !== 'running' && trial.status !== 'queued') continue;
    // A cluster job keeps running when the orchestrator dies: follow it instead of running the trial again.
    if (trial.status === 'running' && trial.externalId !== null && executor?.isActive && trial.executor === executor.kind && (await executor.isActive(trial.externalId))) {
      report.reattached.push(trial.seq);
      if (trial.worktree) keptWorktrees.push(trial.worktree);
      continue;
    }
    ledger.record(
      'trial.finished',
      {
        trialId: trial.id,
        status: 'interrupted',
        reason: `the orchestrator stopped while this trial was ${trial.status}`,
        metrics: null,
        metric: null,
        bestBefore: trial.bestBefore,
        exitCode: null,
        signal: null,
        wallMs: trial.startedAt ? Date.now() - Date.parse(trial.startedAt) : null,
        peakRssKb: null,
        logTail: null,
      },
      { studyId: study.id, trialId: trial.id },
    );
    report.interrupted.push(trial.seq);
  }

  const trials = ledger.trials(study.id);
  const successors = new Set(trials.map((trial) => trial.relatedTrialId).filter((id): id is number => id !== null));
  for (const trial of trials) {
    if (trial.status !== 'interrupted' || successors.has(trial.id)) continue;
    if (trial.role !== 'baseline' && trial.candidateCommit === null) continue; // never proposed: the proposer will propose again
    report.requeued.push(requeue(opened, trial));
  }

  report.prunedWorktrees = await repo.pruneWorktrees(opened.worktreesDir, keptWorktrees);

  const best = ledger.study(study.id).bestTrialId;
  if (best !== null) {
    const kept = ledger.trial(best).keptCommit;
    const tip = await repo.resolveCommit(`refs/heads/${opened.branch}`);
    if (kept && tip !== kept) {
      if (tip === null || (await repo.isAncestor(tip, kept))) {
        await repo.moveRef(`refs/heads/${opened.branch}`, kept, tip ?? undefined);
        report.branchRepaired = true;
      } else {
        opened.warnings.push(
          `branch ${opened.branch} was moved outside Strata (tip ${tip.slice(0, 8)}, ledger best ${kept.slice(0, 8)}); new trials start from the ledger's best`,
        );
      }
    }
  }
  return report;
}

/** Queue a fresh attempt of an interrupted trial, same candidate, linked to it. Returns the new seq. */
function requeue(opened: OpenedStudy, trial: TrialRecord): number {
  const { ledger, study } = opened;
  return ledger.transaction(() => {
    const trialId = ledger.nextId('trials');
    const seq = ledger.nextTrialSeq(study.id);
    ledger.record(
      'trial.queued',
      {
        studyId: study.id,
        trialId,
        seq,
        role: trial.role,
        proposer: trial.proposer,
        description: trial.description,
        parentCommit: trial.parentCommit,
        relatedTrialId: trial.id,
        params: trial.params,
        paramsKey: trial.paramsKey,
        // A screening run is re-run at the screening budget, everything else at the full one.
        budgetMs: budgetForRole(opened.research, trial.role),
        seed: trial.seed,
        attempt: trial.attempt + 1,
      },
      { studyId: study.id, trialId },
    );
    if (trial.candidateCommit) {
      ledger.record(
        'trial.proposed',
        {
          trialId,
          description: trial.description,
          candidateCommit: trial.candidateCommit,
          diff: trial.diff ?? '',
          params: trial.params,
          paramsKey: trial.paramsKey,
          meta: { ...(trial.meta ?? {}), rerunOf: trial.seq },
        },
        { studyId: study.id, trialId },
      );
    }
    return seq;
  });
}
