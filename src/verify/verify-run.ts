/**
 * One run of a verify: a commit measured once more as a trial of role
 * `verify`, with its own seed, through the same sandboxed stages and
 * integrity checks as every trial. Never kept: a valid run ends `discard`
 * and only adds a measurement to its arm.
 */
import { join } from 'node:path';
import { errorMessage } from '../core/errors.ts';
import type { Executor } from '../core/executor.ts';
import { hashString } from '../core/random.ts';
import { checkSanity } from '../acceptance/sanity-limits.ts';
import type { VerifyArm } from '../ledger/events.ts';
import type { TrialRecord } from '../ledger/records.ts';
import { trialLimits } from '../research/fidelity.ts';
import { measureRun } from '../research/measure-run.ts';
import type { OpenedStudy } from '../research/open-study.ts';
import { sanityLimits } from '../research/repeat-run.ts';
import { trialEnvironment } from '../research/trial-environment.ts';
import { runTrialStages } from '../research/trial-stages.ts';
import { chaosPoint } from '../study/chaos-point.ts';

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
  const { trials, study, research, repo } = opened;
  const { arm } = request;
  const queued = trials.queue({
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
  });
  const logPath = join(opened.logsDir, `${queued.seq}.log`);
  const limits = trialLimits(research, queued);
  let trial = queued;
  try {
    await repo.prepareWorktree(request.worktree, arm.commit);
    const env = trialEnvironment({
      base: process.env,
      extra: { ...research.env, ...request.env },
      study: study.name,
      seq: trial.seq,
      trialId: trial.id,
      seed: trial.seed!,
      budgetMs: limits.budgetMs,
      params: null,
    });
    trial = trials.start(trial, { worktree: request.worktree, logPath, executor: request.executor.kind, slot: null });
    await chaosPoint('verify');
    const staged = await runTrialStages(opened, { trial, executor: request.executor, signal: request.signal, worktree: request.worktree, logPath, env, limits });
    const run = staged.run;
    const facts = (metric: number | null, metrics: Record<string, number> | null) => ({
      metrics,
      metric,
      exitCode: run?.exitCode ?? null,
      signal: run?.signal ?? null,
      wallMs: run?.wallMs ?? null,
      peakRssKb: run?.peakRssKb ?? null,
      logTail: run ? run.logTail.join('\n') : null,
    });
    if (request.signal.aborted) return trials.interrupt(trial, 'stopped', 'stopped by the user during a verify run; run strata verify again to resume');
    if (staged.invalid || run === null) return trials.finish(trial, 'invalid', 'run', staged.invalid ?? 'nothing ran', facts(null, null), null);
    const measured = measureRun(opened, run, limits);
    if (!measured.ok) return trials.finish(trial, measured.status, measured.status === 'interrupted' ? 'stopped' : 'run', measured.reason, facts(measured.metric, measured.metrics), null);
    const sanity = checkSanity(measured.metric, { goal: research.metric.goal, incumbent: undefined, limits: sanityLimits(opened) });
    if (sanity) return trials.finish(trial, 'invalid', 'run', sanity.reason, facts(measured.metric, measured.metrics), null);
    return trials.finish(trial, 'discard', 'run', `verify ${arm.label}: measured ${research.metric.name}=${measured.metric}`, facts(measured.metric, measured.metrics), null);
  } catch (error) {
    try {
      trials.interrupt(trial, 'orchestrator-error', `orchestrator error during a verify run: ${errorMessage(error)}`);
    } catch {
      // The ledger itself failed; the next verify finds the trial live and interrupts it.
    }
    throw error;
  } finally {
    await repo.cleanWorktree(request.worktree);
  }
}
