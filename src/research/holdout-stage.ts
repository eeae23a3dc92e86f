/**
 * The sealed holdout: `research.holdout` runs on each new best (and, at the
 * end, on a best that has no result yet), like the evaluate stage, from a
 * pristine checkout, reading the trial's artifacts read-only, and it alone
 * may read `research.holdout_data`. Its result goes to its own ledger table
 * and its log to `.strata/holdout/`, both hidden from trial processes; no
 * proposer input (history, strata.params.json, the worktree) ever carries it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Executor } from '../core/executor.ts';
import { describeViolations } from '../integrity/compare-snapshots.ts';
import type { ParamValues } from '../core/search-space.ts';
import type { TrialRecord } from '../ledger/records.ts';
import { chaosPoint } from '../study/chaos-point.ts';
import { measureRun } from './measure-run.ts';
import type { OpenedStudy } from './open-study.ts';
import { pruneArtifacts, studyTrust } from './study-trust.ts';
import { trialEnvironment } from './trial-environment.ts';
import { projectIn, sandboxNotes } from './trial-stages.ts';
import type { HoldoutResult } from '../ledger/events.ts';

export interface HoldoutContext {
  executor: Executor;
  signal: AbortSignal;
  /** A checkout folder the holdout stage may use (made and cleaned here). */
  checkout: string;
}

/**
 * Run the holdout stage for `trial` (the new best) and record the result.
 * Returns null when the study has no holdout. The artifacts of every other
 * trial are removed afterwards: only the best's may be needed again.
 *
 * @example
 * await runHoldout(opened, keptTrial, { executor, signal, checkout: `${worktree}-holdout` });
 */
export async function runHoldout(opened: OpenedStudy, trial: TrialRecord, context: HoldoutContext): Promise<HoldoutResult | null> {
  const { research, repo, study, ledger } = opened;
  const holdout = research.holdout;
  const trust = studyTrust(opened);
  const artifactsName = `${trial.seq}-${trial.attempt}`;
  if (!holdout) {
    await pruneArtifacts(opened);
    return null;
  }
  const artifacts = join(trust.artifactsDir, artifactsName);
  const logPath = join(trust.holdoutLogsDir, `${trial.seq}.log`);
  const refs = { studyId: study.id, trialId: trial.id };
  const record = (status: HoldoutResult['status'], reason: string | null, metric: number | null, metrics: Record<string, number> | null, wallMs: number | null) => {
    ledger.record('trial.holdout_measured', { studyId: study.id, trialId: trial.id, status, metric, metrics, reason, wallMs, logPath }, refs);
    return ledger.research.holdoutResults(study.id).get(trial.id)!;
  };
  if (!existsSync(artifacts)) return record('invalid', `the artifacts of #${trial.seq} are gone (${artifacts}); the holdout cannot be measured`, null, null, null);

  const commit = research.evaluate?.code === 'candidate' ? trial.candidateCommit! : study.baseCommit!;
  await repo.prepareWorktree(context.checkout, commit);
  try {
    const projectDir = projectIn(opened, context.checkout);
    const pristine = await trust.guard.checkBeforeRun(projectDir);
    if (pristine.violations.length > 0) return record('invalid', 'the holdout checkout does not match the study\'s protected files', null, null, null);
    const env = {
      ...trialEnvironment({
        base: process.env,
        extra: research.env,
        study: study.name,
        seq: trial.seq,
        trialId: trial.id,
        seed: trial.seed ?? 0,
        budgetMs: holdout.budgetMs,
        params: trial.params as ParamValues | null,
      }),
      STRATA_STAGE: 'holdout',
    };
    const executor = trust.sandbox.executorFor(context.executor, { name: `${artifactsName}-holdout`, workdir: context.checkout, artifacts, artifactsWritable: false, readsHoldoutData: true });
    await chaosPoint('holdout');
    const result = await executor.run({ trialId: trial.id, command: holdout.command, cwd: projectDir, env, budgetMs: holdout.budgetMs, graceMs: holdout.graceMs, logPath, signal: context.signal });
    const tampered = await trust.guard.checkAfterRun(projectDir, pristine.snapshot);
    if (tampered.length > 0) {
      await repo.removeWorktree(context.checkout);
      return record('invalid', `the holdout stage changed protected files, so nothing it printed is trusted: ${describeViolations(tampered)}`, null, null, result.wallMs);
    }
    const measured = measureRun(opened, result, holdout);
    const notes = sandboxNotes(result);
    if (!measured.ok) return record(measured.status, [measured.reason, ...notes].join('; '), measured.metric, measured.metrics, result.wallMs);
    return record('measured', notes.length > 0 ? notes.join('; ') : null, measured.metric, measured.metrics, result.wallMs);
  } finally {
    await repo.cleanWorktree(context.checkout);
    await pruneArtifacts(opened);
  }
}

/**
 * At the end of a session: the best has a holdout result (a kill between
 * its keep and its holdout would leave it without one).
 *
 * @example
 * await ensureFinalHoldout(opened, { executor, signal, checkout: join(opened.worktreesDir, 'holdout') });
 */
export async function ensureFinalHoldout(opened: OpenedStudy, context: HoldoutContext): Promise<HoldoutResult | null> {
  if (!opened.research.holdout || context.signal.aborted) {
    await pruneArtifacts(opened);
    return null;
  }
  const bestId = opened.ledger.study(opened.study.id).bestTrialId;
  if (bestId === null) return null;
  const existing = opened.ledger.research.holdoutResults(opened.study.id).get(bestId);
  if (existing && existing.status !== 'interrupted') return existing;
  const result = await runHoldout(opened, opened.ledger.trial(bestId), context);
  await opened.repo.removeWorktree(context.checkout);
  return result;
}
