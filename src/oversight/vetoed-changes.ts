import type { Ledger } from '../ledger/ledger.ts';
import type { StudyRepository } from '../workspace/study-repository.ts';

/**
 * Does `commit` hold the change of a vetoed keep that `tip` does not (it was
 * built on that keep before the veto)? Then it must not be committed onto
 * the branch as it is: the veto would come undone.
 *
 * @example
 * if (await carriesVetoedChange(opened, trial.candidateCommit, best.keptCommit)) settleAsStale();
 */
export async function carriesVetoedChange(study: { ledger: Ledger; repo: StudyRepository; study: { id: number } }, commit: string, tip: string): Promise<boolean> {
  const vetoed = study.ledger.trials(study.study.id).filter((trial) => trial.meta?.veto !== undefined && trial.keptCommit !== null);
  for (const trial of vetoed) {
    if ((await study.repo.isAncestor(trial.keptCommit!, commit)) && !(await study.repo.isAncestor(trial.keptCommit!, tip))) return true;
  }
  return false;
}

/**
 * The trials a veto queued in place of a later keep whose change conflicted
 * (and new attempts of them): each is owed a proposal on the rebuilt branch.
 * Unlike a fresh trial, which the proposer makes again anyway, such a trial
 * interrupted before its proposal (a stop, a kill, a veto of a stopped
 * study) must be queued again, or the keep it replaces is lost in silence.
 *
 * @example
 * if (trial.candidateCommit === null && owedByVeto(ledger, studyId, trials).has(trial.id)) trials.retry(trial, budgetMs);
 */
export function owedByVeto(ledger: Ledger, studyId: number, trials: readonly { id: number; retryOf: number | null }[]): Set<number> {
  const owed = new Set<number>();
  for (const record of ledger.oversight.records(studyId, 'trial.vetoed')) {
    for (const follower of record.payload.followers) if (follower.requeuedTrialId !== null) owed.add(follower.requeuedTrialId);
  }
  // Attempts follow their trial in id order: one pass finds every attempt of an owed trial.
  for (const trial of [...trials].sort((a, b) => a.id - b.id)) if (trial.retryOf !== null && owed.has(trial.retryOf)) owed.add(trial.id);
  return owed;
}
