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
