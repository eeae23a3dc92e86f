/**
 * Speculative proposals (`executor.speculate`, the default on one slot): the
 * next proposal is made while the slot runs a trial, as if that trial will
 * be discarded. Most trials are, and then the proposal is what the serial
 * loop would have made, ready the moment the slot frees. When the running
 * trial is kept instead, the proposal was made on a best that is gone: it is
 * never run there. Its change is re-applied onto the new best (a tree merge,
 * no worktree), the trial goes back to the proposer with that tree in its
 * worktree and a note saying why (ProposalContext.revising), and the wasted
 * proposal is recorded (`trial.speculation_stale`, `meta.speculation.stale`).
 *
 * The planner decides which ready proposals are stale (schedule/plan.ts);
 * this file is the effect.
 */
import type { TrialRecord } from '../ledger/records.ts';
import { PARAMS_FILE } from '../proposers/search/search-proposer.ts';
import { chaosPoint } from '../study/chaos-point.ts';
import { reapplyOnto } from '../workspace/reapply-onto.ts';
import type { OpenedStudy } from './open-study.ts';

/** What `trial.speculation_stale` left on a trial (meta.speculation): the proposal to revise and why. */
export interface StaleSpeculation {
  keptTrialId: number;
  keptSeq: number;
  staleCommit: string;
  description: string;
  /** The stale change re-applied onto the new best; null when it conflicted. */
  rebasedCommit: string | null;
  conflicts: string[];
  /** How many proposals of this trial went stale so far. */
  stale: number;
}

/**
 * The stale speculation a trial is to be revised from, if any: only while it
 * waits for its new proposal (a proposal made since replaces it).
 *
 * @example
 * const revising = staleSpeculationOf(trial); // { keptSeq: 4, rebasedCommit: 'ab12…', … }
 */
export function staleSpeculationOf(trial: TrialRecord): StaleSpeculation | undefined {
  const value = trial.meta?.speculation;
  if (typeof value !== 'object' || value === null || trial.candidateCommit !== null) return undefined;
  return value as StaleSpeculation;
}

/** How many speculative proposals a trial wasted (they went stale before they ran). */
export function wastedProposals(trial: TrialRecord): number {
  const value = trial.meta?.speculation;
  return typeof value === 'object' && value !== null && typeof (value as { stale?: unknown }).stale === 'number' ? (value as { stale: number }).stale : 0;
}

/**
 * Settle a ready speculative proposal that a keep made stale: keep its commit
 * reachable, re-apply its change onto the new best, and record the trial back
 * to `queued` on the new best without a candidate (one event), so the next
 * proposal of this trial revises it. A kill before the event leaves the trial
 * queued with its stale candidate, which recovery re-queues (it is then judged
 * as a stale winner, rebase.ts); a kill after it leaves a trial without a
 * candidate, proposed again from the best.
 *
 * @example
 * const revised = await settleStaleSpeculation(opened, trial, trials.best()!);
 * await prepareCandidate(opened, revised, deps); // starts from the re-applied change
 */
export async function settleStaleSpeculation(opened: OpenedStudy, trial: TrialRecord, best: TrialRecord, options: { reapply?: boolean } = {}): Promise<TrialRecord> {
  const { repo, study, ledger } = opened;
  const tip = best.keptCommit!;
  const staleCommit = trial.candidateCommit!;
  const wasted = wastedProposals(trial) + 1;
  const staleRef = `refs/strata/${study.name}/trials/${trial.seq}-stale-${wasted}`;
  // The next proposal of this trial moves <seq>-<attempt>; the stale commit keeps a ref of its own.
  await repo.moveRef(staleRef, staleCommit);
  let rebasedCommit: string | null = null;
  let conflicts: string[] = [];
  if (options.reapply !== false) {
    // A search proposal rewrites strata.params.json whole: its version wins over the new best's.
    const takeWhole = trial.params !== null ? [opened.projectPrefix ? `${opened.projectPrefix}/${PARAMS_FILE}` : PARAMS_FILE] : [];
    const merged = await reapplyOnto(repo.root, { candidate: staleCommit, onto: tip, takeCandidateFor: takeWhole });
    conflicts = merged.conflicts;
    if (conflicts.length === 0) {
      rebasedCommit = await repo.commitTreeOnto(merged.tree, tip, `${trial.description}\n\nStrata-Study: ${study.name}\nStrata-Speculation-Of: ${trial.seq}\n`);
      await repo.moveRef(`${staleRef}-reapplied`, rebasedCommit);
    }
  }
  await chaosPoint('speculation-stale');
  ledger.record(
    'trial.speculation_stale',
    {
      studyId: study.id,
      trialId: trial.id,
      keptTrialId: best.id,
      keptSeq: best.seq,
      staleCommit,
      staleRef,
      description: trial.description,
      ontoCommit: tip,
      rebasedCommit,
      conflicts,
    },
    { studyId: study.id, trialId: trial.id },
  );
  return opened.trials.get(trial.id);
}
