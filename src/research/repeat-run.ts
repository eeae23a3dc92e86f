/**
 * One more run of a commit that was already measured, with its own
 * STRATA_SEED: a baseline repeat, a rerun the acceptance rule asked for, or
 * a re-check of the incumbent. It is a trial of its own in the ledger (role
 * `baseline-repeat`, `rerun` or `incumbent-check`, linked to the trial it
 * repeats by related_trial_id), runs through the same sandboxed stages and
 * integrity checks, and is never kept: a valid one ends `discard` and only
 * adds a measurement.
 */
import { join } from 'node:path';
import { errorMessage } from '../core/errors.ts';
import { hashString } from '../core/random.ts';
import type { ParamValues } from '../core/search-space.ts';
import type { TrialRole } from '../core/trial.ts';
import { checkSanity } from '../acceptance/sanity-limits.ts';
import type { TrialRecord } from '../ledger/records.ts';
import { chaosPoint } from '../study/chaos-point.ts';
import type { RunFacts } from '../study/study-trials.ts';
import type { TrialDependencies } from './execute-trial.ts';
import { trialLimits } from './fidelity.ts';
import { measureRun } from './measure-run.ts';
import type { OpenedStudy } from './open-study.ts';
import { trialEnvironment } from './trial-environment.ts';
import { runTrialStages } from './trial-stages.ts';

export type RepeatRole = Extract<TrialRole, 'baseline-repeat' | 'rerun' | 'incumbent-check'>;

/** How a repeat run ended: its metric when it measured one that passes the sanity limits. */
export interface RepeatOutcome {
  trial: TrialRecord;
  metric: number | null;
  /** Why there is no metric (crash, timeout, invalid, interrupted), for the decision's reason. */
  failure: string | null;
  notes: string[];
}

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
  const { trials, study, research, repo } = opened;
  const { of } = request;
  const commit = of.candidateCommit!;
  const description = `${request.label}: ${of.description}`.slice(0, 200);
  const queued = trials.queue({
    role: request.role,
    proposer: of.proposer,
    description,
    parentCommit: of.parentCommit,
    relatedTrialId: request.relatedTo.id,
    params: of.params,
    paramsKey: of.paramsKey,
    budgetMs: of.budgetMs ?? research.budgetMs,
    // A seed of its own: the point of a repeat is to see how much the metric moves when only the seed does.
    seed: hashString(`${study.name}:repeat:${opened.ledger.nextTrialSeq(study.id)}`) % 2 ** 31,
    candidate: { commit, diff: '', meta: { rerunOf: of.seq, repeatFor: request.relatedTo.seq } },
  });
  const logPath = join(opened.logsDir, `${queued.seq}.log`);
  const limits = trialLimits(research, queued);
  let trial = queued;
  try {
    await repo.prepareWorktree(deps.worktree, commit);
    const env = trialEnvironment({
      base: process.env,
      extra: research.env,
      study: study.name,
      seq: trial.seq,
      trialId: trial.id,
      seed: trial.seed!,
      budgetMs: limits.budgetMs,
      params: of.params as ParamValues | null,
    });
    trial = trials.start(trial, { worktree: deps.worktree, logPath, executor: deps.executor.kind, slot: deps.slot ?? null });
    deps.observer.trialStarted?.(trial);
    const running = trial;
    await chaosPoint(request.role);
    const staged = await runTrialStages(opened, {
      trial,
      executor: deps.executor,
      signal: deps.signal,
      worktree: deps.worktree,
      logPath,
      env,
      limits,
      onOutput: (chunk) => deps.observer.trialOutput?.(running, chunk),
    });
    const run = staged.run;
    const best = trials.best();
    const facts = (metric: number | null, metrics: Record<string, number> | null): RunFacts => ({
      metrics,
      metric,
      exitCode: run?.exitCode ?? null,
      signal: run?.signal ?? null,
      wallMs: run?.wallMs ?? null,
      peakRssKb: run?.peakRssKb ?? null,
      logTail: run ? run.logTail.join('\n') : null,
    });
    const finish = (status: 'discard' | 'crash' | 'timeout' | 'invalid' | 'interrupted', reason: string, metric: number | null, metrics: Record<string, number> | null) => {
      const finished = trials.finish(trial, status, status === 'interrupted' ? 'stopped' : 'run', reason, facts(metric, metrics), best?.metric ?? null);
      deps.observer.trialFinished?.(finished, best);
      return finished;
    };
    if (staged.invalid || run === null) {
      const reason = staged.invalid ?? 'nothing ran';
      return { trial: finish('invalid', reason, null, null), metric: null, failure: `#${trial.seq} invalid: ${reason}`, notes: staged.notes };
    }
    const measured = measureRun(opened, run, limits);
    if (!measured.ok) return { trial: finish(measured.status, measured.reason, measured.metric, measured.metrics), metric: null, failure: `#${trial.seq} ${measured.status}: ${measured.reason}`, notes: staged.notes };
    const sanity = checkSanity(measured.metric, { goal: research.metric.goal, incumbent: undefined, limits: sanityLimits(opened) });
    if (sanity) return { trial: finish('invalid', sanity.reason, measured.metric, measured.metrics), metric: null, failure: `#${trial.seq} invalid: ${sanity.reason}`, notes: staged.notes };
    const reason = `${request.label}: measured ${research.metric.name}=${measured.metric}${staged.notes.length > 0 ? ` (${staged.notes.join('; ')})` : ''}`;
    return { trial: finish('discard', reason, measured.metric, measured.metrics), metric: measured.metric, failure: null, notes: staged.notes };
  } catch (error) {
    // Strata itself failed (git, the file system): the repeat did not measure anything; say so before the error travels up.
    try {
      trials.interrupt(trial, 'orchestrator-error', `orchestrator error during a repeat run: ${errorMessage(error)}`);
    } catch {
      // The ledger is what failed; recovery settles the live trial at the next start.
    }
    throw error;
  } finally {
    await repo.cleanWorktree(deps.worktree);
  }
}

/** research.metric's sanity limits. */
export function sanityLimits(opened: OpenedStudy) {
  const { metric } = opened.research;
  return { ...(metric.validRange ? { validRange: metric.validRange } : {}), ...(metric.maxImprovementFactor !== undefined ? { maxImprovementFactor: metric.maxImprovementFactor } : {}) };
}
