/**
 * Stale winners. With several slots (or proposals prepared ahead) the
 * incumbent moves while other trials run, so a candidate may finish on top of
 * an older best. Its tree lacks the incumbent's changes, so it cannot simply
 * be committed onto the branch. If it beat its own parent, its change is
 * re-applied onto the current best and queued again (it is kept only if the
 * re-run still wins); a conflict is recorded on the trial, never dropped in
 * silence. When the re-applied tree is the very tree that ran (the
 * incumbent's changes were all in files the candidate rewrote whole, as a
 * search proposal's strata.params.json), the result stands and is judged
 * against the current best directly.
 */
import type { Acceptance } from '../core/acceptance.ts';
import { isStrictlyBetter } from '../core/trial.ts';
import type { TrialRecord } from '../ledger/records.ts';
import { chaosPoint } from '../study/chaos-point.ts';
import { PARAMS_FILE } from '../proposers/search/search-proposer.ts';
import { carriesVetoedChange } from '../oversight/vetoed-changes.ts';
import { pickOnto } from '../workspace/pick-onto.ts';
import { reapplyOnto, treeOf } from '../workspace/reapply-onto.ts';
import type { OpenedStudy } from './open-study.ts';

/** How often one change may be re-applied before it is given up (the incumbent keeps moving under it). */
const MAX_REBASES = 3;

/** What to do with a stale trial that ran fine; `record` runs inside the caller's ledger transaction. */
export interface StaleSettlement {
  /** Writes the re-run (or the conflict) to the ledger and returns the reason for the stale trial's `discard`. */
  record(): string;
}

/**
 * Settle a trial whose parent is no longer the branch tip. Returns null when
 * the trial is not stale, or when re-applying it onto the tip yields the tree
 * that ran (then judge it as usual). Otherwise the trial ends `discard` with
 * the settlement's reason.
 *
 * @example
 * const stale = await settleStaleCandidate(opened, trial, 1.23, best, acceptance);
 * if (stale) ledger.transaction(() => finish({ status: 'discard', reason: stale.record() }));
 */
export async function settleStaleCandidate(
  opened: OpenedStudy,
  trial: TrialRecord,
  metric: number,
  best: TrialRecord | undefined,
  acceptance: Acceptance,
): Promise<StaleSettlement | null> {
  const { ledger, study, repo, research } = opened;
  const tip = best?.keptCommit;
  if (!tip || !best || trial.role === 'baseline' || trial.candidateCommit === null || trial.parentCommit === null || trial.parentCommit === tip) return null;
  // A candidate that already contains the tip (a crash repair built on a candidate of the current best) is not stale.
  // Unless it also carries a vetoed change the tip no longer has (it ran on top of a keep that was vetoed since).
  if ((await repo.isAncestor(tip, trial.candidateCommit)) && !(await carriesVetoedChange(opened, trial.candidateCommit, tip))) return null;

  const parent = ledger.trials(study.id).find((other) => other.keptCommit === trial.parentCommit);
  const parentMetric = parent?.metric ?? null;
  if (parentMetric !== null) {
    const decision = acceptance.decide({ goal: research.metric.goal, candidate: metric, incumbent: parentMetric });
    // A rule that asks for another run (of the candidate, or of the incumbent: noise-aware measures the incumbent first)
    // found a better-looking candidate promising: the re-run on the current best gets the full test.
    if (!decision.keep && !(decision.rerun !== undefined && isStrictlyBetter(metric, parentMetric, research.metric.goal))) {
      return { record: () => `built on #${parent!.seq}, which the best #${best.seq} has since replaced, and did not beat it: ${decision.reason}` };
    }
  }
  const beat = parent ? `beat its parent #${parent.seq} (${metric} vs ${parentMetric})` : 'ran on an older best';

  const rebases = typeof trial.meta?.rebases === 'number' ? trial.meta.rebases : 0;
  if (rebases >= MAX_REBASES) {
    return { record: () => `${beat}, but the best moved again after ${rebases} re-applications; not re-run` };
  }

  const takeWhole = trial.params !== null ? [opened.projectPrefix ? `${opened.projectPrefix}/${PARAMS_FILE}` : PARAMS_FILE] : [];
  // A veto can take the trial's parent off the branch; merging by history would bring the vetoed change back, so pick its own change.
  const { tree, conflicts } = (await repo.isAncestor(trial.parentCommit, tip))
    ? await reapplyOnto(repo.root, { candidate: trial.candidateCommit, onto: tip, takeCandidateFor: takeWhole })
    : await pickOnto(repo.root, { base: trial.parentCommit, change: trial.candidateCommit, onto: tip });
  const refs = { studyId: study.id, trialId: trial.id };
  if (conflicts.length > 0) {
    return {
      record: () => {
        ledger.record('trial.rebased', { studyId: study.id, trialId: trial.id, outcome: 'conflict', ontoCommit: tip, rebasedCommit: null, rerunTrialId: null, conflicts }, refs);
        return `${beat}, but its change conflicts with the current best #${best.seq} in ${conflicts.join(', ')}; not kept (its commit stays on refs/strata/${study.name}/trials/${trial.seq}-${trial.attempt})`;
      },
    };
  }
  if (tree === (await treeOf(repo.root, trial.candidateCommit))) return null;

  const message = `${trial.description}\n\nStrata-Study: ${study.name}\nStrata-Rebased-From: ${trial.seq}\n`;
  const rebased = await repo.commitTreeOnto(tree, tip, message);
  const diff = await repo.diff(tip, rebased);
  // Keeps the re-applied commit reachable before the ledger names it.
  await repo.moveRef(`refs/strata/${study.name}/trials/${trial.seq}-rebased`, rebased);
  await chaosPoint('rebased');
  return {
    record: () => {
      const rerun = opened.trials.queue({
        role: 'candidate',
        proposer: trial.proposer,
        description: trial.description,
        parentCommit: tip,
        relatedTrialId: trial.id,
        params: trial.params,
        paramsKey: trial.paramsKey,
        budgetMs: research.budgetMs,
        seed: trial.seed,
        candidate: { commit: rebased, diff, meta: { ...(trial.meta ?? {}), rebasedFrom: trial.seq, rebases: rebases + 1 } },
      });
      const rerunId = rerun.id;
      const seq = rerun.seq;
      ledger.record('trial.rebased', { studyId: study.id, trialId: trial.id, outcome: 'rerun', ontoCommit: tip, rebasedCommit: rebased, rerunTrialId: rerunId, conflicts: [] }, refs);
      return `${beat}, but ran on an older best; re-applied onto the current best #${best.seq} and queued as #${seq}`;
    },
  };
}
