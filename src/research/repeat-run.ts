/**
 * One more run of a commit that was already measured, with its own
 * STRATA_SEED: a baseline repeat, a rerun the acceptance rule asked for, or
 * a re-check of the incumbent. It is a trial of its own in the ledger (role
 * `baseline-repeat`, `rerun` or `incumbent-check`, linked to the trial it
 * repeats by related_trial_id), runs through the same sandboxed stages and
 * integrity checks, and is never kept: a valid one ends `discard` and only
 * adds a measurement.
 */
import { hashString } from '../core/random.ts';
import type { ParamValues } from '../core/search-space.ts';
import type { TrialRole } from '../core/trial.ts';
import type { TrialRecord } from '../ledger/records.ts';
import type { OpenedStudy } from './open-study.ts';
import type { TrialDependencies } from './execute-trial.ts';
import { measureCommit, type MeasureCommitOutcome } from './measure-commit.ts';

export { sanityLimits } from './measure-commit.ts';

export type RepeatRole = Extract<TrialRole, 'baseline-repeat' | 'rerun' | 'incumbent-check'>;

/** How a repeat run ended: its metric when it measured one that passes the sanity limits. */
export type RepeatOutcome = MeasureCommitOutcome;

/**
 * Run `of`'s commit once more as a new trial of `role`, in the slot's worktree.
 *
 * @example
 * const again = await runRepeat(opened, deps, { role: 'rerun', of: candidate, relatedTo: candidate, label: `rerun 1 of #${candidate.seq}` });
 * if (again.metric !== null) samples.push(again.metric);
 */
export async function runRepeat(
  opened: OpenedStudy,
  deps: TrialDependencies,
  request: { role: RepeatRole; of: TrialRecord; relatedTo: TrialRecord; label: string },
): Promise<RepeatOutcome> {
  const { trials, study, research } = opened;
  const { of } = request;
  const commit = of.candidateCommit!;
  return measureCommit(opened, {
    spec: {
      role: request.role,
      proposer: of.proposer,
      description: `${request.label}: ${of.description}`.slice(0, 200),
      parentCommit: of.parentCommit,
      relatedTrialId: request.relatedTo.id,
      params: of.params,
      paramsKey: of.paramsKey,
      budgetMs: of.budgetMs ?? research.budgetMs,
      // A seed of its own: the point of a repeat is to see how much the metric moves when only the seed does.
      seed: hashString(`${study.name}:repeat:${opened.ledger.nextTrialSeq(study.id)}`) % 2 ** 31,
      candidate: { commit, diff: '', meta: { rerunOf: of.seq, repeatFor: request.relatedTo.seq } },
    },
    executor: deps.executor,
    worktree: deps.worktree,
    slot: deps.slot ?? null,
    signal: deps.signal,
    params: of.params as ParamValues | null,
    chaosPhase: request.role,
    label: request.label,
    kind: 'repeat run',
    observer: {
      started: (trial) => deps.observer.trialStarted?.(trial),
      output: (trial, chunk) => deps.observer.trialOutput?.(trial, chunk),
      finished: (trial) => deps.observer.trialFinished?.(trial, trials.best()),
    },
  });
}
