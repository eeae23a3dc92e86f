/**
 * One run of a verify: a commit measured once more as a trial of role
 * `verify`, with its own seed, through the same sandboxed stages and
 * integrity checks as every trial (research/measure-commit.ts, the step the
 * acceptance rule's repeats share). Never kept: a valid run ends `discard`
 * and only adds a measurement to its arm.
 */
import type { Executor } from '../core/executor.ts';
import { hashString } from '../core/random.ts';
import type { VerifyArm } from '../ledger/events.ts';
import type { TrialRecord } from '../ledger/records.ts';
import { measureCommit } from '../research/measure-commit.ts';
import type { OpenedStudy } from '../research/open-study.ts';

export interface VerifyRunRequest {
  verifyId: number;
  arm: VerifyArm;
  round: number;
  repeats: number;
  budgetMs: number;
  env: Record<string, string>;
  /** The trial the arm stands for (the best, the baseline, the left-out change), linked by related_trial_id. */
  relatedTrialId: number | null;
  executor: Executor;
  worktree: string;
  signal: AbortSignal;
}

/**
 * Queue, run and finish one verify trial.
 *
 * @example
 * const trial = await runVerifyTrial(opened, { verifyId: 1, arm, round: 2, repeats: 5, budgetMs, env: {}, relatedTrialId: best.id, executor, worktree, signal });
 */
export async function runVerifyTrial(opened: OpenedStudy, request: VerifyRunRequest): Promise<TrialRecord> {
  const { trials, study } = opened;
  const { arm } = request;
  const outcome = await measureCommit(opened, {
    spec: {
      role: 'verify',
      proposer: 'verify',
      description: `verify ${arm.label}: run ${request.round} of ${request.repeats}`,
      parentCommit: arm.commit,
      relatedTrialId: request.relatedTrialId,
      params: null,
      budgetMs: request.budgetMs,
      // A fresh seed for every run (a run redone after a kill gets a new one too): the point is to see the metric move with the seed.
      seed: hashString(`${study.name}:verify:${request.verifyId}:${arm.key}:${request.round}:${trials.all().length}`) % 2 ** 31,
      candidate: { commit: arm.commit, diff: '', meta: { verify: request.verifyId, arm: arm.key, round: request.round } },
    },
    executor: request.executor,
    worktree: request.worktree,
    slot: null,
    signal: request.signal,
    env: request.env,
    params: null,
    chaosPhase: 'verify',
    label: `verify ${arm.label}`,
    kind: 'verify run',
    // Verify runs are measurements of their own, never compared with the study's best.
    bestBefore: () => null,
    stoppedReason: 'stopped by the user during a verify run; run strata verify again to resume',
  });
  return outcome.trial;
}
