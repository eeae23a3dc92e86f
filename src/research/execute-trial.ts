import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Acceptance } from '../core/acceptance.ts';
import { errorMessage } from '../core/errors.ts';
import type { ExecutionResult, Executor } from '../core/executor.ts';
import type { Proposer, TrialSummary } from '../core/proposer.ts';
import { Random } from '../core/random.ts';
import { paramsKey, type ParamValues } from '../core/search-space.ts';
import { improvement, REPEAT_ROLES, type FinalTrialStatus } from '../core/trial.ts';
import { parseMetrics } from '../executors/metric-parser.ts';
import type { TrialRecord } from '../ledger/records.ts';
import { PARAMS_FILE } from '../proposers/search/search-proposer.ts';
import { decideTrial, withStageNotes } from './acceptance-decision.ts';
import type { DecisionLock } from './decision-lock.ts';
import { forbiddenChanges } from './editable-check.ts';
import { runHoldout } from './holdout-stage.ts';
import { brokenConstraints, constraintReason } from './metric-constraints.ts';
import { screeningReason, trialLimits } from './fidelity.ts';
import { studyStopFor, type StudyStop } from './proposal-stop.ts';
import type { OpenedStudy } from './open-study.ts';
import { settleStaleCandidate } from './rebase.ts';
import { readSecondaryMetrics } from './secondary-metrics.ts';
import type { ResearchObserver } from './research-observer.ts';
import { trialEnvironment } from './trial-environment.ts';
import { runTrialStages } from './trial-stages.ts';

export interface TrialDependencies {
  proposer: Proposer;
  executor: Executor;
  acceptance: Acceptance;
  observer: ResearchObserver;
  signal: AbortSignal;
  studySeed: number;
  /** The worktree this trial runs in: reused between trials of a slot, cleaned after each. */
  worktree: string;
  /** The slot's name for the ledger (`slot-0`, …) when trials run on several. */
  slot?: string;
  /** Serializes judge → keep across slots, so each decision sees the incumbent the one before it left. */
  decisionLock?: DecisionLock;
  /** The commit whose files `worktree` already holds (its candidate was just committed there), if any. */
  worktreeHolds?: string;
  /** Told when a proposal failed in a way that ends the study (USD cap reached, model unavailable). */
  stopStudy?: (stop: StudyStop) => void;
}

interface Outcome {
  status: FinalTrialStatus;
  reason: string | null;
  metrics: Record<string, number> | null;
  metric: number | null;
  run: ExecutionResult | null;
}

/**
 * Take one queued trial through its life: worktree from its parent (or its
 * existing candidate), proposal and commit, the editable check, the run under
 * budget, the metric, the acceptance decision, keep or discard, cleanup.
 * Every step is in the ledger before the next begins.
 */
export async function executeTrial(opened: OpenedStudy, queued: TrialRecord, deps: TrialDependencies): Promise<TrialRecord> {
  const { ledger, study, repo, research } = opened;
  const refs = { studyId: study.id, trialId: queued.id };
  const bestId = ledger.study(study.id).bestTrialId;
  let best = bestId === null ? undefined : ledger.trial(bestId);
  // A trial left running by a killed orchestrator whose job is still alive: wait for it instead of starting it again.
  const attaching = queued.status === 'running' && queued.externalId !== null;
  let release: (() => void) | undefined;
  const worktree = deps.worktree;
  const projectDir = opened.projectPrefix ? join(worktree, opened.projectPrefix) : worktree;
  const logPath = join(opened.logsDir, `${queued.seq}${queued.attempt > 1 ? `-attempt${queued.attempt}` : ''}.log`);
  let trial = queued;

  const finish = (outcome: Outcome): TrialRecord => {
    const incumbent = best?.metric ?? null;
    ledger.record(
      'trial.finished',
      {
        trialId: trial.id,
        status: outcome.status,
        reason: outcome.reason,
        metrics: outcome.metrics,
        metric: outcome.metric,
        bestBefore: incumbent,
        exitCode: outcome.run?.exitCode ?? null,
        signal: outcome.run?.signal ?? null,
        wallMs: outcome.run?.wallMs ?? null,
        peakRssKb: outcome.run?.peakRssKb ?? null,
        logTail: outcome.run ? outcome.run.logTail.join('\n') : null,
      },
      refs,
    );
    return ledger.trial(trial.id);
  };

  try {
    // The serial loop proposes in this very worktree: its files are the candidate already, so skip a checkout.
    if (!attaching && !(deps.worktreeHolds !== undefined && deps.worktreeHolds === trial.candidateCommit)) await repo.prepareWorktree(worktree, trial.candidateCommit ?? trial.parentCommit!);

    if (trial.candidateCommit === null && trial.role === 'candidate') {
      const proposed = await propose(opened, trial, deps, worktree, projectDir, best);
      if ('invalid' in proposed) return finish({ status: proposed.status, reason: proposed.invalid, metrics: null, metric: null, run: null });
      trial = proposed.trial;
    }
    if (trial.role === 'baseline' && trial.candidateCommit === null) {
      ledger.record(
        'trial.proposed',
        { trialId: trial.id, description: trial.description, candidateCommit: trial.parentCommit, diff: '', params: null, paramsKey: null, meta: null },
        refs,
      );
      trial = ledger.trial(trial.id);
    }
    if (deps.signal.aborted) return finish({ status: 'interrupted', reason: 'stopped before the run started', metrics: null, metric: null, run: null });

    const limits = trialLimits(research, trial);
    const params = await readParams(projectDir);
    const env = trialEnvironment({
      base: process.env,
      extra: research.env,
      study: study.name,
      seq: trial.seq,
      trialId: trial.id,
      seed: trial.seed ?? deps.studySeed,
      budgetMs: limits.budgetMs,
      params,
    });
    if (!attaching) ledger.record('trial.started', { trialId: trial.id, worktree, logPath, executor: deps.executor.kind, slot: deps.slot ?? null, externalId: null }, refs);
    trial = ledger.trial(trial.id);
    deps.observer.trialStarted?.(trial);
    const running = trial;
    // Run (and evaluate) in the sandbox, protected files checked before and after: see trial-stages.ts.
    const staged = await runTrialStages(opened, {
      trial,
      executor: deps.executor,
      signal: deps.signal,
      worktree,
      logPath,
      env,
      limits,
      ...(attaching ? { attachTo: trial.externalId! } : {}),
      onOutput: (chunk) => deps.observer.trialOutput?.(running, chunk),
    });
    const run = staged.run;
    // Other slots may have moved the incumbent while this trial ran: decide against the current one, one decision at a time.
    release = await deps.decisionLock?.acquire();
    const bestNowId = ledger.study(study.id).bestTrialId;
    best = bestNowId === null ? undefined : ledger.trial(bestNowId);
    const judged: Outcome | Measured =
      staged.invalid !== null || run === null ? { status: 'invalid', reason: staged.invalid ?? 'nothing ran', metrics: null, metric: null, run } : judge(opened, run);
    let outcome: Outcome;
    if (judged.status === 'measured') {
      // The acceptance rule may ask for reruns; the lock is handed back while they run (acceptance-decision.ts).
      const lock = { release: () => { release?.(); release = undefined; }, acquire: async () => { release = await deps.decisionLock?.acquire(); } };
      const decided = await decideTrial(opened, trial, judged.metric, deps, lock, staged.notes);
      best = decided.best;
      outcome = { ...judged, status: decided.status, reason: decided.reason };
    } else outcome = { ...judged, reason: withStageNotes(judged.reason, staged.notes) };
    if (trial.role === 'screen' && (outcome.status === 'keep' || outcome.status === 'discard')) outcome = { ...outcome, status: 'discard', reason: screeningReason(limits.budgetMs) };
    if ((outcome.status === 'keep' || outcome.status === 'discard') && outcome.metric !== null) {
      const stale = await settleStaleCandidate(opened, trial, outcome.metric, best, deps.acceptance);
      if (stale) return ledger.transaction(() => finish({ ...outcome, status: 'discard', reason: stale.record() }));
    }
    if (outcome.status !== 'keep') return finish(outcome);

    const message = `${trial.description}\n\nStrata-Study: ${study.name}\nStrata-Trial: ${trial.seq}\nStrata-Metric: ${research.metric.name}=${outcome.metric}\n`;
    const tip = best?.keptCommit ?? trial.parentCommit!;
    const kept = trial.role === 'baseline' ? trial.candidateCommit! : await repo.commitTreeOnto(trial.candidateCommit!, tip, message);
    ledger.transaction(() => {
      finish(outcome);
      ledger.record('trial.kept', { studyId: study.id, trialId: trial.id, keptCommit: kept }, refs);
    });
    // The ledger is written first: a kill here leaves the branch behind, and recovery moves it.
    if (kept !== tip) await repo.moveRef(`refs/heads/${opened.branch}`, kept, tip);
    await runHoldout(opened, ledger.trial(trial.id), { executor: deps.executor, signal: deps.signal, checkout: `${worktree}-holdout` });
    return ledger.trial(trial.id);
  } finally {
    release?.();
    await repo.cleanWorktree(worktree);
  }
}

/** Ask the proposer for a candidate in `worktree` (checked out at the trial's parent) and commit it; used ahead of the run by the scheduler. */
export async function propose(
  opened: OpenedStudy,
  trial: TrialRecord,
  deps: TrialDependencies,
  worktree: string,
  projectDir: string,
  best: TrialRecord | undefined,
): Promise<{ trial: TrialRecord } | { invalid: string; status: 'invalid' | 'interrupted' }> {
  const { ledger, study, repo, research } = opened;
  const refs = { studyId: study.id, trialId: trial.id };
  const history = ledger.trials(study.id).filter((other) => other.id !== trial.id);
  let proposal;
  try {
    // Repeat runs only measure noise: the decision on the trial they repeat says what they found.
    const finished = history.filter((other) => other.status !== 'running' && other.status !== 'queued' && !REPEAT_ROLES.includes(other.role));
    // A repair starts from the crashed candidate it fixes (see Proposer.repairTarget).
    const repaired = trial.relatedTrialId === null ? undefined : finished.findLast((other) => other.candidateCommit === trial.parentCommit);
    proposal = await deps.proposer.propose({
      seq: trial.seq,
      trialId: trial.id,
      ...(repaired ? { repairOf: summarize(research.metric.goal)(repaired) } : {}),
      config: research,
      goal: research.metric.goal,
      history: finished.map(summarize(research.metric.goal)),
      best: best ? summarize(research.metric.goal)(best) : undefined,
      inFlight: history.filter((other) => other.status === 'running' || other.status === 'queued').map(summarize(research.metric.goal)),
      projectDir,
      rng: Random.fromSeed(`${deps.studySeed}:${trial.seq}:${trial.attempt}`),
      signal: deps.signal,
    });
  } catch (error) {
    // Ctrl-C while the proposer works (a model call, a coding agent) is a stop, not a bad proposal.
    if (deps.signal.aborted) return { invalid: 'stopped while the proposal was being made', status: 'interrupted' };
    deps.observer.proposalFailed?.(trial.seq, errorMessage(error));
    const stop = studyStopFor(error);
    if (stop) deps.stopStudy?.(stop);
    return { invalid: `proposal failed: ${errorMessage(error)}`, status: 'invalid' };
  }
  const description = oneLine(proposal.description) || `${deps.proposer.name} proposal`;
  const committed = await repo.commitWorktree(worktree, trial.parentCommit!, `${description}\n\nStrata-Study: ${study.name}\nStrata-Trial: ${trial.seq}\n`);
  const params = proposal.params ?? null;
  const key = params ? paramsKey(params) : null;
  const record = (candidateCommit: string | null, diff: string) =>
    ledger.record(
      'trial.proposed',
      { trialId: trial.id, description, candidateCommit, diff, params, paramsKey: key, meta: proposal.meta ?? null },
      refs,
    );
  if (committed === null) {
    record(null, '');
    return { invalid: 'the proposal changed nothing', status: 'invalid' };
  }
  // A ref per trial keeps its commit reachable (re-runs after a kill, audits) even when discarded.
  await repo.moveRef(`refs/strata/${study.name}/trials/${trial.seq}-${trial.attempt}`, committed.commit);
  record(committed.commit, committed.diff);
  const forbidden = forbiddenChanges(committed.changes, {
    projectPrefix: opened.projectPrefix,
    editable: research.editable,
    alsoAllowed: research.proposer === 'search' ? [PARAMS_FILE] : [],
  });
  if (forbidden.length > 0) return { invalid: `changed files outside research.editable: ${forbidden.join(', ')}`, status: 'invalid' };
  return { trial: ledger.trial(trial.id) };
}

/** A run that measured a valid metric: the acceptance decision comes next. */
interface Measured {
  status: 'measured';
  reason: null;
  metrics: Record<string, number> | null;
  metric: number;
  run: ExecutionResult;
}

function judge(opened: OpenedStudy, run: ExecutionResult): Outcome | Measured {
  const { metric } = opened.research;
  if (run.status === 'interrupted') return { status: 'interrupted', reason: 'stopped by the user', metrics: null, metric: null, run };
  if (run.status === 'timeout') {
    return { status: 'timeout', reason: `killed at budget + grace (${(opened.research.budgetMs + opened.research.graceMs) / 1000}s)`, metrics: null, metric: null, run };
  }
  if (run.status === 'spawn_error') return { status: 'crash', reason: `could not start: ${run.error ?? 'unknown error'}`, metrics: null, metric: null, run };
  const parsed = parseMetrics(run.output, { name: metric.name, ...(metric.pattern !== undefined ? { pattern: metric.pattern } : {}) });
  const found = { ...parsed.metrics, ...readSecondaryMetrics(run.output, metric.secondary) };
  const metrics = Object.keys(found).length > 0 ? found : null;
  if (run.exitCode !== 0) return { status: 'crash', reason: `exit code ${run.exitCode ?? run.signal}`, metrics, metric: null, run };
  if (parsed.primary === null) {
    const detail = parsed.problems[0] ?? (metric.pattern ? `no line matched ${metric.pattern}` : `no line "METRIC ${metric.name}=<number>"`);
    return { status: 'crash', reason: `no metric: ${detail}`, metrics, metric: null, run };
  }
  if (!Number.isFinite(parsed.primary)) return { status: 'crash', reason: `metric is ${parsed.primary}`, metrics, metric: parsed.primary, run };
  const broken = brokenConstraints(found, opened.research.constraints);
  if (broken.length > 0) return { status: 'invalid', reason: constraintReason(broken), metrics, metric: parsed.primary, run };
  return { status: 'measured', reason: null, metrics, metric: parsed.primary, run };
}

/** What a proposer may see of a trial. */
export function summarize(goal: 'minimize' | 'maximize') {
  return (trial: TrialRecord): TrialSummary => ({
    id: trial.id,
    seq: trial.seq,
    status: trial.status,
    description: trial.description,
    metric: trial.metric,
    delta: trial.metric !== null && trial.bestBefore !== null ? improvement(trial.metric, trial.bestBefore, goal) : null,
    params: trial.params as ParamValues | null,
    paramsKey: trial.paramsKey,
    diff: trial.diff,
    logTail: trial.logTail,
    parentCommit: trial.parentCommit,
    candidateCommit: trial.candidateCommit,
    reason: trial.statusReason,
    relatedTrialId: trial.relatedTrialId,
  });
}

async function readParams(projectDir: string): Promise<ParamValues | null> {
  const text = await readFile(join(projectDir, PARAMS_FILE), 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
  if (text === null) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    // A proposer (or the trainer's own code) may have written garbage; the trainer will read it and fail loudly.
    if (error instanceof SyntaxError) return null;
    throw error;
  }
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as ParamValues) : null;
}

function oneLine(text: string): string {
  return text.split('\n').map((line) => line.trim()).find(Boolean)?.slice(0, 200) ?? '';
}
