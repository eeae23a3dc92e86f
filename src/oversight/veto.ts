/**
 * Veto: undo one kept change without losing the night. The study branch is
 * rebuilt from the vetoed trial's parent: every later keep is picked onto the
 * new tip in order (three-way, as `git cherry-pick` would), and one whose
 * change conflicts is queued again as a candidate, never dropped in silence.
 * The last surviving keep (or the vetoed trial's parent) becomes the best;
 * its trial keeps its measurements. The veto, with its reason, is one ledger
 * event, and the proposers' history marks the change as vetoed.
 */
import { BranchMovedError, OversightError } from '../core/errors.ts';
import type { OversightSource, VetoFollower } from '../ledger/events.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { TrialRecord } from '../ledger/records.ts';
import type { StudyTrials } from '../study/study-trials.ts';
import { commitMessage, commitTree, firstParentChain, pickOnto } from '../workspace/pick-onto.ts';
import type { StudyRepository } from '../workspace/study-repository.ts';

/** What a veto needs of the study. */
export interface VetoTarget {
  ledger: Ledger;
  trials: StudyTrials;
  repo: StudyRepository;
  branch: string;
  studyName: string;
  baseCommit: string;
  /** The budget of a candidate queued in place of a conflicted keep. */
  candidateBudgetMs: number;
}

/** What the veto did. */
export interface VetoResult {
  seq: number;
  newBestSeq: number;
  branchCommit: string;
  followers: VetoFollower[];
}

/** A veto asked for: the trial by its number, why, and who asked. */
export interface VetoRequest {
  seq: number;
  reason: string;
  source: OversightSource;
  author: string;
}

/**
 * Veto trial `seq`. Throws OversightError for the baseline, a trial that was
 * not kept, one already vetoed or off the branch, and an unknown number;
 * BranchMovedError when the branch was moved outside Strata.
 *
 * @example
 * const result = await vetoTrial(target, { seq: 7, reason: 'leaks the validation set', source: 'cli', author: 'ada' });
 */
export async function vetoTrial(target: VetoTarget, request: VetoRequest): Promise<VetoResult> {
  const { ledger, trials, repo } = target;
  const all = trials.all();
  const vetoed = all.find((trial) => trial.seq === request.seq);
  if (!vetoed) throw new OversightError(`no trial #${request.seq} in study "${target.studyName}"; strata status lists its trials`, { seq: request.seq });
  if (vetoed.role === 'baseline') {
    throw new OversightError(`trial #${vetoed.seq} is the baseline (the unmodified code): there is no change to undo; to start from other code, commit it and start a new study`, { seq: vetoed.seq });
  }
  if (vetoed.meta?.veto !== undefined) throw new OversightError(`trial #${vetoed.seq} was vetoed already`, { seq: vetoed.seq });
  if (vetoed.status !== 'keep' || vetoed.keptCommit === null) {
    throw new OversightError(`trial #${vetoed.seq} was not kept (it ended ${vetoed.status}), so the branch does not hold its change; only a kept trial can be vetoed`, { seq: vetoed.seq, status: vetoed.status });
  }
  const best = trials.best();
  if (!best?.keptCommit) throw new OversightError(`study "${target.studyName}" has no best yet; nothing to veto`);
  const branchRef = `refs/heads/${target.branch}`;
  const branchTip = await repo.resolveCommit(branchRef);
  if (branchTip !== null && branchTip !== best.keptCommit && !(await repo.isAncestor(branchTip, best.keptCommit))) throw new BranchMovedError(target.branch, branchTip, best.keptCommit);

  // The branch as the ledger has it: the base, then each keep's commit along first parents.
  const chain = [target.baseCommit, ...(await firstParentChain(repo.root, target.baseCommit, best.keptCommit))];
  const position = chain.indexOf(vetoed.keptCommit);
  if (position <= 0) throw new OversightError(`trial #${vetoed.seq} is no longer on branch ${target.branch} (an earlier veto removed it)`, { seq: vetoed.seq });
  const keptBy = new Map(all.filter((trial) => trial.keptCommit !== null && trial.status === 'keep').map((trial) => [trial.keptCommit!, trial]));
  const onto = chain[position - 1]!;
  let tip = onto;
  let tipTrial = keptBy.get(onto) ?? all.find((trial) => trial.role === 'baseline' && trial.status === 'keep');
  const followers: VetoFollower[] = [];
  const conflicted: TrialRecord[] = [];
  for (let index = position + 1; index < chain.length; index++) {
    const commit = chain[index]!;
    const follower = keptBy.get(commit);
    if (!follower) continue; // not a keep of this study (cannot happen on a branch only Strata moves); its change is dropped with the veto
    const picked = await pickOnto(repo.root, { base: chain[index - 1]!, change: commit, onto: tip });
    if (picked.conflicts.length > 0) {
      followers.push({ trialId: follower.id, seq: follower.seq, outcome: 'conflict', commit: null, conflicts: picked.conflicts, requeuedTrialId: null });
      conflicted.push(follower);
      continue;
    }
    tip = await commitTree(repo.root, picked.tree, tip, await commitMessage(repo.root, commit));
    tipTrial = follower;
    followers.push({ trialId: follower.id, seq: follower.seq, outcome: 'reapplied', commit: tip, conflicts: [], requeuedTrialId: null });
  }
  if (!tipTrial) throw new OversightError(`no trial of study "${target.studyName}" holds commit ${onto.slice(0, 12)}, the parent of #${vetoed.seq}; the ledger and branch disagree (run strata ledger check)`);
  const newBest = tipTrial;

  ledger.transaction(() => {
    // Another keep landed while the branch was rebuilt: it is not in `chain`, so this veto would drop it. Refuse; a retry sees it.
    if (trials.best()?.id !== best.id) throw new OversightError(`the best of study "${target.studyName}" changed while the veto was prepared; run the veto again`);
    for (const follower of followers) {
      if (follower.outcome !== 'conflict') continue;
      const source = conflicted.find((trial) => trial.id === follower.trialId)!;
      // A fresh proposal on the rebuilt branch, linked to the keep it replaces: the history tells the proposer what was lost.
      follower.requeuedTrialId = trials.queue({
        role: 'candidate',
        proposer: source.proposer,
        description: `redo #${source.seq} after the veto of #${vetoed.seq}: ${source.description}`,
        parentCommit: tip,
        relatedTrialId: source.id,
        budgetMs: target.candidateBudgetMs,
      }).id;
    }
    ledger.record(
      'trial.vetoed',
      {
        studyId: trials.studyId,
        trialId: vetoed.id,
        seq: vetoed.seq,
        reason: request.reason,
        source: request.source,
        author: request.author,
        ontoCommit: onto,
        branchCommit: tip,
        newBestTrialId: newBest.id,
        followers,
      },
      { studyId: trials.studyId, trialId: vetoed.id },
    );
  });
  // The ledger first, as for a keep: a kill here leaves the branch behind, and recovery moves it to the (new) best.
  await repo.moveRef(branchRef, tip, branchTip ?? undefined);
  return { seq: vetoed.seq, newBestSeq: newBest.seq, branchCommit: tip, followers };
}

/** The veto's outcome in one line. */
export function describeVeto(result: VetoResult): string {
  const reapplied = result.followers.filter((follower) => follower.outcome === 'reapplied').map((follower) => `#${follower.seq}`);
  const conflicts = result.followers.filter((follower) => follower.outcome === 'conflict');
  return [
    `vetoed #${result.seq}: the branch is rebuilt without it at ${result.branchCommit.slice(0, 12)}, best #${result.newBestSeq}`,
    reapplied.length ? `re-applied ${reapplied.join(', ')}` : '',
    ...conflicts.map((follower) => `#${follower.seq} conflicts in ${follower.conflicts.join(', ')}: queued again as a new candidate`),
  ]
    .filter(Boolean)
    .join('; ');
}
