import { join } from 'node:path';
import type { TrialRecord } from '../ledger/records.ts';
import { propose, type TrialDependencies } from './execute-trial.ts';
import type { OpenedStudy } from './open-study.ts';
import { staleSpeculationOf } from './speculation.ts';

/** A trial ready to run (its candidate committed), or one that ended without running. */
export type PreparedCandidate = { ready: TrialRecord } | { finished: TrialRecord };

/**
 * Make a queued trial runnable ahead of its run: ask the proposer for a
 * candidate in a proposal worktree of its own (so it can happen while every
 * slot is busy), commit it, and refuse a change that is already running or
 * already ran on the same parent. Trials that already have a candidate (the
 * baseline, re-runs, promotions) are ready as they are.
 *
 * @example
 * const prepared = await prepareCandidate(opened, ledger.trial(id), { ...deps, worktree: '/repo/.strata/worktrees/s/propose-0' });
 */
export async function prepareCandidate(opened: OpenedStudy, queued: TrialRecord, deps: TrialDependencies, options: { keepWorktree?: boolean } = {}): Promise<PreparedCandidate> {
  if (queued.role === 'baseline' || queued.candidateCommit !== null) return { ready: queued };
  const { trials, repo } = opened;
  const projectDir = opened.projectPrefix ? join(deps.worktree, opened.projectPrefix) : deps.worktree;
  let proposed;
  // A stale speculative proposal is revised from its change re-applied onto the new best (speculation.ts).
  await repo.prepareWorktree(deps.worktree, staleSpeculationOf(queued)?.rebasedCommit ?? queued.parentCommit!);
  try {
    proposed = await propose(opened, queued, deps, deps.worktree, projectDir, trials.best());
  } catch (error) {
    await repo.cleanWorktree(deps.worktree);
    throw error;
  }
  const duplicate = 'unrun' in proposed ? undefined : duplicateOf(trials.all(), proposed.trial);
  // With keepWorktree (the serial loop, whose slot runs the candidate next in this worktree) a ready candidate stays checked out.
  if ('unrun' in proposed || duplicate || !options.keepWorktree) await repo.cleanWorktree(deps.worktree);
  if ('unrun' in proposed) {
    const { cause, reason } = proposed.unrun;
    return { finished: cause === 'stopped' ? trials.interrupt(queued, 'stopped', reason) : trials.finish(queued, 'invalid', cause, reason) };
  }
  if (duplicate) {
    // Worded as a failed proposal: nothing ran, so it neither counts against max_trials nor passes for progress.
    const where = duplicate.status === 'running' || duplicate.status === 'queued' ? 'is already in flight' : 'already ran on this parent';
    return { finished: trials.finish(queued, 'invalid', 'duplicate', `proposal failed: duplicate of #${duplicate.seq} (the same change ${where})`) };
  }
  return { ready: proposed.trial };
}

/**
 * An earlier fresh proposal with the same diff that is in flight, or that ran
 * on the same parent: running it again would only measure noise. Re-runs,
 * rebases and promotions share their source's change on purpose.
 */
function duplicateOf(trials: readonly TrialRecord[], trial: TrialRecord): TrialRecord | undefined {
  if (!trial.diff) return undefined;
  return trials.find(
    (other) =>
      other.id !== trial.id &&
      other.seq < trial.seq &&
      other.diff === trial.diff &&
      other.status !== 'interrupted' &&
      other.retryOf === null &&
      other.meta?.rerunOf === undefined &&
      other.meta?.rebasedFrom === undefined &&
      other.meta?.promotedFrom === undefined &&
      (other.status === 'queued' || other.status === 'running' || other.parentCommit === trial.parentCommit),
  );
}
