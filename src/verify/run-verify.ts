/**
 * `strata verify` and the re-verification inside `strata finalize`: measure
 * a plan's arms (the baseline, the best, the best without each kept change,
 * or the final branch) `repeats` times each, interleaved round by round
 * (A B C, A B C, …) so a machine that drifts (thermal throttling, another
 * job) shifts every arm alike.
 *
 * A verify is a session of its own on the study (claim, heartbeat, stop
 * signal: no research run can start beside it), and its runs are trials of
 * role `verify` in the study, so status, the dashboard and the report show
 * them, `strata ledger check` covers them, and a kill loses nothing: the next
 * `strata verify` finds the unfinished plan and runs only what is missing.
 * The study's state before the verify (done, paused) is restored at the end.
 */
import { dirname, join } from 'node:path';
import type { StudyConfig } from '../core/config/parse-config.ts';
import { formatDuration } from '../core/duration.ts';
import { StudyStateError } from '../core/errors.ts';
import { Ledger } from '../ledger/ledger.ts';
import type { VerifyArm, VerifyConflict } from '../ledger/events.ts';
import type { TrialRecord } from '../ledger/records.ts';
import { createExecutor, withSharedDir } from '../research/create-executor.ts';
import { openResearchStudy, type OpenedStudy } from '../research/open-study.ts';
import { killOrphanedTrials } from '../research/orphan-trials.ts';
import { prepareStudyTrust } from '../research/study-trust.ts';
import { ledgerPathFor } from '../workspace/state-dir.ts';
import { applyPatchOnto, changePatch } from './change-patches.ts';
import { armTrials, keptLineage, settledRuns, verifyPlans, verifyResult, type VerifyPlan, type VerifyResult } from './verify-record.ts';
import { runVerifyTrial } from './verify-run.ts';

export interface VerifyObserver {
  /**
   * The plan, before the first run: how many runs are left and about how long they take; with --max-time,
   * how many of them fit (`fits` < `left`: the verify stops early and resumes next time); each conflict with its change's seq.
   */
  planned?(info: { plan: VerifyPlan; left: number; estimateMs: number; resumed: boolean; fits: number; conflicts: (VerifyConflict & { seq: number })[] }): void;
  /** One run ended. */
  runFinished?(info: { done: number; total: number; arm: VerifyArm; trial: TrialRecord }): void;
}

export interface RunVerifyOptions {
  configPath: string;
  config: StudyConfig;
  purpose?: 'verify' | 'finalize';
  repeats: number;
  /** Stop starting runs when the next one would end after this; the verify resumes on the next call. */
  maxTimeMs?: number;
  /** Budget of every run as a multiple of research.budget (`--budget 2x`). */
  budgetFactor?: number;
  /** Variables for every run on top of research.env (`--env K=V`). */
  env?: Record<string, string>;
  /** finalize: the commit of the branch it is about to write, and the verify it builds on. */
  final?: { commit: string; basedOnVerifyId: number };
  signal?: AbortSignal;
  observer?: VerifyObserver;
}

/**
 * Run (or resume) a verify of the study the config names.
 *
 * @example
 * const result = await runVerify({ configPath: 'strata.yaml', config, repeats: 5 });
 * for (const c of result.contributions) console.log(c.change.seq, c.verdict);
 */
export async function runVerify(options: RunVerifyOptions): Promise<VerifyResult> {
  const purpose = options.purpose ?? 'verify';
  const prior = priorState(options);
  const opened = withSharedDir(await openResearchStudy({ configPath: options.configPath, config: options.config, ...(options.signal ? { signal: options.signal } : {}) }));
  const { ledger, study, session, trials, research } = opened;
  const signal = session.signal;
  const budgetMs = Math.round(research.budgetMs * (options.budgetFactor ?? 1));
  const env = options.env ?? {};
  let plan: VerifyPlan | undefined;
  try {
    await settleLostVerifyRuns(opened);
    plan = verifyPlans(ledger, study.id).find(
      (candidate) =>
        candidate.finished === null &&
        candidate.purpose === purpose &&
        candidate.repeats === options.repeats &&
        candidate.budgetMs === budgetMs &&
        JSON.stringify(candidate.env) === JSON.stringify(env) &&
        (purpose === 'verify' || candidate.arms.some((arm) => arm.kind === 'final' && arm.commit === options.final?.commit)),
    );
    const resumed = plan !== undefined;
    plan ??= await makePlan(opened, { purpose, repeats: options.repeats, budgetMs, env, prior: resumedPrior(opened, prior), ...(options.final ? { final: options.final } : {}) });
    const executor = createExecutor(opened);
    await prepareStudyTrust(opened, executor.kind);

    const pending = pendingRuns(opened, plan);
    const estimateMs = estimateRunMs(opened, budgetMs);
    const fits = options.maxTimeMs === undefined ? pending.length : Math.min(pending.length, Math.floor(options.maxTimeMs / Math.max(1, estimateMs)));
    const seqOf = new Map(trials.all().map((trial) => [trial.id, trial.seq]));
    const conflicts = plan.conflicts.map((conflict) => ({ ...conflict, seq: seqOf.get(conflict.changeTrialId) ?? conflict.changeTrialId }));
    options.observer?.planned?.({ plan, left: pending.length, estimateMs: estimateMs * pending.length, resumed, fits, conflicts });
    const started = Date.now();
    const total = plan.arms.length * plan.repeats;
    let stopped: string | null = null;
    for (const [index, run] of pending.entries()) {
      if (signal.aborted) {
        stopped = 'stopped by the user; run strata verify again to resume';
        break;
      }
      if (options.maxTimeMs !== undefined && Date.now() - started + estimateMs > options.maxTimeMs) {
        stopped =
          index === 0
            ? `--max-time ${formatDuration(options.maxTimeMs)} is shorter than one run (about ${formatDuration(estimateMs)}): nothing was run; give more time`
            : `--max-time ${formatDuration(options.maxTimeMs)}: the next run would end after it, ${pending.length - index} run(s) left; run strata verify again to resume`;
        break;
      }
      const trial = await runVerifyTrial(opened, {
        verifyId: plan.verifyId,
        arm: run.arm,
        round: run.round,
        repeats: plan.repeats,
        budgetMs,
        env,
        relatedTrialId: run.arm.changeTrialId ?? (run.arm.kind === 'baseline' ? baselineTrialId(trials.all()) : plan.bestTrialId),
        executor,
        worktree: join(opened.worktreesDir, 'verify'),
        signal,
      });
      options.observer?.runFinished?.({ done: total - pending.length + index + 1, total, arm: run.arm, trial });
    }
    const complete = stopped === null && pendingRuns(opened, plan).length === 0;
    if (complete) ledger.record('verify.finished', { studyId: study.id, verifyId: plan.verifyId, complete: true, reason: null }, { studyId: study.id });
    const result = verifyResult(ledger.trials(study.id), ledger.study(study.id), verifyPlans(ledger, study.id).find((item) => item.verifyId === plan!.verifyId)!, research.metric.goal);
    restore(opened, plan);
    await opened.repo.pruneWorktrees(opened.worktreesDir);
    return { ...result, stopped: complete ? null : (stopped ?? (signal.aborted ? 'stopped by the user; run strata verify again to resume' : 'a run ended without a result; run strata verify again to rerun it')) };
  } catch (error) {
    // The study goes back to where it was; the verify itself resumes from its plan next time.
    if (plan) restore(opened, plan);
    else session.endOnError(error);
    throw error;
  } finally {
    session.close();
    ledger.close();
  }
}

/** The study's state before this session claimed it, read without claiming (it may not exist). */
function priorState(options: RunVerifyOptions): VerifyPlan['prior'] {
  const ledgerPath = ledgerPathFor(dirname(options.configPath));
  let ledger: Ledger;
  try {
    ledger = Ledger.openForReading(ledgerPath);
  } catch {
    throw new StudyStateError(`no ledger at ${ledgerPath}: run \`strata research\` first; verify measures what a study kept`);
  }
  try {
    const study = ledger.studyByName(options.config.name);
    if (!study) throw new StudyStateError(`no study "${options.config.name}" in ${ledgerPath}: run \`strata research\` first; verify measures what a study kept`);
    if (study.kind !== 'research') throw new StudyStateError(`study "${study.name}" is a ${study.kind} study: verify measures research studies`);
    return { state: study.state, reason: study.stopReason, cause: study.stopCause };
  } finally {
    ledger.close();
  }
}

/** A study found `running` was left so by a killed process: an unfinished verify knows the state before it, else say paused. */
function resumedPrior(opened: OpenedStudy, prior: VerifyPlan['prior']): VerifyPlan['prior'] {
  if (prior.state !== 'running') return prior;
  const earlier = verifyPlans(opened.ledger, opened.study.id).at(-1);
  return earlier && earlier.finished === null ? earlier.prior : { state: 'paused', reason: 'the orchestrator stopped; run strata research to resume', cause: 'error' };
}

/** Live verify trials belong to a verify that was killed (this session holds the claim): they measured nothing. */
async function settleLostVerifyRuns(opened: OpenedStudy): Promise<void> {
  const lost = opened.trials.all().filter((trial) => trial.role === 'verify' && (trial.status === 'queued' || trial.status === 'running'));
  for (const trial of lost) opened.trials.interrupt(trial, 'orchestrator-lost', 'the verify stopped while this run was live; run again by the resumed verify');
  await killOrphanedTrials(opened.study.name, opened.worktreesDir, new Set(lost.map((trial) => trial.id)));
}

async function makePlan(
  opened: OpenedStudy,
  request: { purpose: 'verify' | 'finalize'; repeats: number; budgetMs: number; env: Record<string, string>; prior: VerifyPlan['prior']; final?: { commit: string; basedOnVerifyId: number } },
): Promise<VerifyPlan> {
  const { ledger, study, trials, repo } = opened;
  const best = trials.best();
  const lineage = keptLineage(trials.all(), best, study.baseCommit!);
  if (!best || lineage.length === 0) throw new StudyStateError(`study "${study.name}" has kept nothing beyond its baseline: there is nothing to verify yet; run strata research first`);
  const arms: VerifyArm[] = [{ key: 'baseline', kind: 'baseline', label: 'baseline', commit: study.baseCommit!, changeTrialId: null }];
  const conflicts: VerifyConflict[] = [];
  if (request.purpose === 'finalize') {
    arms.push({ key: 'final', kind: 'final', label: 'final branch', commit: request.final!.commit, changeTrialId: null });
  } else {
    arms.push({ key: 'best', kind: 'best', label: `best #${best.seq}`, commit: best.keptCommit!, changeTrialId: null });
    for (const change of lineage) {
      const patch = await changePatch(repo, change.parentCommit, change.keptCommit);
      const without = await applyPatchOnto(repo, best.keptCommit!, patch, { reverse: true, message: `strata verify: best #${best.seq} without #${change.trial.seq}` });
      if (without.conflict !== undefined) conflicts.push({ changeTrialId: change.trial.id, message: `its inverse diff does not apply onto the best: ${without.conflict}` });
      else arms.push({ key: `without-${change.trial.seq}`, kind: 'without', label: `without #${change.trial.seq}`, commit: without.commit, changeTrialId: change.trial.id });
    }
  }
  const verifyId = verifyPlans(ledger, study.id).reduce((top, plan) => Math.max(top, plan.verifyId), 0) + 1;
  const payload = {
    studyId: study.id,
    verifyId,
    purpose: request.purpose,
    repeats: request.repeats,
    budgetMs: request.budgetMs,
    env: request.env,
    arms,
    conflicts,
    bestTrialId: best.id,
    basedOnVerifyId: request.final?.basedOnVerifyId ?? null,
    prior: request.prior,
  };
  ledger.record('verify.planned', payload, { studyId: study.id });
  return { ...payload, finished: null };
}

/** The runs still owed, in interleaved order: round 1 of every arm, then round 2, … */
function pendingRuns(opened: OpenedStudy, plan: VerifyPlan): { arm: VerifyArm; round: number }[] {
  const all = opened.trials.all();
  const done = new Map(plan.arms.map((arm) => [arm.key, settledRuns(armTrials(all, plan.verifyId, arm.key)).length]));
  const pending: { arm: VerifyArm; round: number }[] = [];
  for (let round = 1; round <= plan.repeats; round++) {
    for (const arm of plan.arms) if ((done.get(arm.key) ?? 0) < round) pending.push({ arm, round });
  }
  return pending;
}

/** A run's expected wall time: the median of the study's measured runs, scaled to the verify's budget; else the budget. */
function estimateRunMs(opened: OpenedStudy, budgetMs: number): number {
  const walls = opened.trials
    .all()
    .filter((trial) => trial.wallMs !== null && trial.metric !== null && trial.role !== 'screen')
    .map((trial) => trial.wallMs! * (budgetMs / (trial.budgetMs ?? opened.research.budgetMs)))
    .sort((a, b) => a - b);
  return walls.length === 0 ? budgetMs : walls[Math.floor(walls.length / 2)]!;
}

function baselineTrialId(trials: readonly TrialRecord[]): number | null {
  return trials.find((trial) => trial.role === 'baseline' && trial.status === 'keep')?.id ?? null;
}

/** Put the study back in the state it had before the verify began. */
function restore(opened: OpenedStudy, plan: VerifyPlan): void {
  const { prior } = plan;
  const state = prior.state === 'running' ? 'paused' : prior.state;
  opened.session.end(state, prior.reason ?? 'verified', prior.cause ?? (state === 'done' ? 'complete' : 'error'));
}
