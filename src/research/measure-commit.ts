/**
 * A commit measured once more as a trial of its own, never kept: queue the
 * trial, check the commit out in the slot's worktree, build its environment,
 * start it, run its sandboxed stages with the study's integrity checks, read
 * the metric, check it against the sanity limits and finish the trial — a
 * valid run ends `discard` and only adds a measurement. The one step behind
 * the acceptance rule's repeats (repeat-run.ts: baseline repeats, reruns,
 * incumbent checks) and `strata verify`'s runs (verify/verify-run.ts); each
 * says what its trial is (role, seed, links) and this runs it the same way.
 */
import { join } from 'node:path';
import { errorMessage } from '../core/errors.ts';
import type { Executor } from '../core/executor.ts';
import type { ParamValues } from '../core/search-space.ts';
import { checkSanity } from '../acceptance/sanity-limits.ts';
import type { TrialRecord } from '../ledger/records.ts';
import { chaosPoint } from '../study/chaos-point.ts';
import type { RunFacts, TrialSpec } from '../study/study-trials.ts';
import { trialLimits } from './fidelity.ts';
import { measureRun } from './measure-run.ts';
import type { OpenedStudy } from './open-study.ts';
import { trialEnvironment } from './trial-environment.ts';
import { runTrialStages } from './trial-stages.ts';

export interface MeasureCommitRequest {
  /** The trial to queue: its role, seed, links, and `candidate.commit`, the commit to measure. */
  spec: TrialSpec & { candidate: { commit: string; diff: string; meta?: Record<string, unknown> | null } };
  executor: Executor;
  worktree: string;
  slot: string | null;
  signal: AbortSignal;
  /** Variables on top of research.env (`strata verify --env`). */
  env?: Record<string, string>;
  params: ParamValues | null;
  /** The chaos suite's kill point, reached once the trial is started. */
  chaosPhase: string;
  /** The valid run's reason: `<label>: measured <metric>=<value>`; and what the run was, for an orchestrator error. */
  label: string;
  kind: string;
  /** The best's metric the finished trial is compared with in the ledger; by default the study's best at the end. */
  bestBefore?: () => number | null;
  /** With a stopped session, a run is interrupted with this reason rather than measured (a verify counts no run its user stopped). */
  stoppedReason?: string;
  /** Told of the trial's start, output and end (the research loop's observer). */
  observer?: { started?(trial: TrialRecord): void; output?(trial: TrialRecord, chunk: string): void; finished?(trial: TrialRecord): void };
}

/** How the run ended: its metric when it measured one that passes the sanity limits. */
export interface MeasureCommitOutcome {
  trial: TrialRecord;
  metric: number | null;
  /** Why there is no metric (crash, timeout, invalid, interrupted), for the decision's reason. */
  failure: string | null;
  notes: string[];
}

/**
 * Queue, run and finish one measuring trial of `spec.candidate.commit`.
 *
 * @example
 * const outcome = await measureCommit(opened, { spec, executor, worktree, slot: null, signal, params: null, chaosPhase: 'verify', label: 'verify best #7', kind: 'verify run' });
 * if (outcome.metric !== null) samples.push(outcome.metric);
 */
export async function measureCommit(opened: OpenedStudy, request: MeasureCommitRequest): Promise<MeasureCommitOutcome> {
  const { trials, study, research, repo } = opened;
  const commit = request.spec.candidate.commit;
  const queued = trials.queue(request.spec);
  const logPath = join(opened.logsDir, `${queued.seq}.log`);
  const limits = trialLimits(research, queued);
  let trial = queued;
  try {
    await repo.prepareWorktree(request.worktree, commit);
    const env = trialEnvironment({
      base: process.env,
      extra: { ...research.env, ...request.env },
      study: study.name,
      seq: trial.seq,
      trialId: trial.id,
      seed: trial.seed!,
      budgetMs: limits.budgetMs,
      params: request.params,
    });
    trial = trials.start(trial, { worktree: request.worktree, logPath, executor: request.executor.kind, slot: request.slot });
    request.observer?.started?.(trial);
    const running = trial;
    await chaosPoint(request.chaosPhase);
    const staged = await runTrialStages(opened, {
      trial,
      executor: request.executor,
      signal: request.signal,
      worktree: request.worktree,
      logPath,
      env,
      limits,
      ...(request.observer?.output ? { onOutput: (chunk: string) => request.observer!.output!(running, chunk) } : {}),
    });
    const run = staged.run;
    const bestBefore = request.bestBefore ? request.bestBefore() : (trials.best()?.metric ?? null);
    const facts = (metric: number | null, metrics: Record<string, number> | null): RunFacts => ({
      metrics,
      metric,
      exitCode: run?.exitCode ?? null,
      signal: run?.signal ?? null,
      wallMs: run?.wallMs ?? null,
      peakRssKb: run?.peakRssKb ?? null,
      logTail: run ? run.logTail.join('\n') : null,
    });
    const finish = (status: 'discard' | 'crash' | 'timeout' | 'invalid' | 'interrupted', reason: string, metric: number | null, metrics: Record<string, number> | null, failure: string | null): MeasureCommitOutcome => {
      const finished = trials.finish(trial, status, status === 'interrupted' ? 'stopped' : 'run', reason, facts(metric, metrics), bestBefore);
      request.observer?.finished?.(finished);
      return { trial: finished, metric: failure === null ? metric : null, failure, notes: staged.notes };
    };
    if (request.stoppedReason !== undefined && request.signal.aborted) {
      const stopped = trials.interrupt(trial, 'stopped', request.stoppedReason);
      request.observer?.finished?.(stopped);
      return { trial: stopped, metric: null, failure: `#${trial.seq} interrupted: ${request.stoppedReason}`, notes: staged.notes };
    }
    if (staged.invalid || run === null) {
      const reason = staged.invalid ?? 'nothing ran';
      return finish('invalid', reason, null, null, `#${trial.seq} invalid: ${reason}`);
    }
    const measured = measureRun(opened, run, limits);
    if (!measured.ok) return finish(measured.status, measured.reason, measured.metric, measured.metrics, `#${trial.seq} ${measured.status}: ${measured.reason}`);
    const sanity = checkSanity(measured.metric, { goal: research.metric.goal, incumbent: undefined, limits: sanityLimits(opened) });
    if (sanity) return finish('invalid', sanity.reason, measured.metric, measured.metrics, `#${trial.seq} invalid: ${sanity.reason}`);
    const reason = `${request.label}: measured ${research.metric.name}=${measured.metric}${staged.notes.length > 0 ? ` (${staged.notes.join('; ')})` : ''}`;
    return finish('discard', reason, measured.metric, measured.metrics, null);
  } catch (error) {
    // Strata itself failed (git, the file system): the run measured nothing; say so before the error travels up.
    try {
      trials.interrupt(trial, 'orchestrator-error', `orchestrator error during a ${request.kind}: ${errorMessage(error)}`);
    } catch {
      // The ledger is what failed; recovery settles the live trial at the next start.
    }
    throw error;
  } finally {
    await repo.cleanWorktree(request.worktree);
  }
}

/** research.metric's sanity limits. */
export function sanityLimits(opened: OpenedStudy) {
  const { metric } = opened.research;
  return { ...(metric.validRange ? { validRange: metric.validRange } : {}), ...(metric.maxImprovementFactor !== undefined ? { maxImprovementFactor: metric.maxImprovementFactor } : {}) };
}
