import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Acceptance } from '../core/acceptance.ts';
import { BranchMovedError, errorMessage } from '../core/errors.ts';
import type { ExecutionResult, Executor } from '../core/executor.ts';
import type { Proposer, TrialSummary } from '../core/proposer.ts';
import { Random } from '../core/random.ts';
import { paramsKey, type ParamValues } from '../core/search-space.ts';
import { improvement, REPEAT_ROLES, type FinalTrialStatus, type TrialCause } from '../core/trial.ts';
import type { TrialRecord } from '../ledger/records.ts';
import { oversightFacts, proposalGuidance, withGuidance } from '../oversight/proposal-guidance.ts';
import { chaosPoint } from '../study/chaos-point.ts';
import { awaitsDecision, NO_RUN, type RunFacts } from '../study/study-trials.ts';
import { PARAMS_FILE } from '../proposers/search/search-proposer.ts';
import { decideTrial, withStageNotes } from './acceptance-decision.ts';
import type { DecisionLock } from './decision-lock.ts';
import { forbiddenChanges } from './editable-check.ts';
import { runHoldout } from './holdout-stage.ts';
import { measureRun } from './measure-run.ts';
import { screeningReason, trialLimits } from './fidelity.ts';
import { studyStopFor, type StudyStop } from './proposal-stop.ts';
import { staleSpeculationOf } from './speculation.ts';
import type { OpenedStudy } from './open-study.ts';
import { settleStaleCandidate } from './rebase.ts';
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
  /** Resolves once the baseline has a result (true), or the study stops first (false); a candidate is judged only after. */
  beforeJudge?: () => Promise<boolean>;
}

/** How a trial that ran ends, before the keep: its status, why, and what its run produced. */
interface Outcome {
  status: FinalTrialStatus;
  cause: TrialCause;
  reason: string | null;
  facts: RunFacts;
}

/**
 * Take one trial through its life: worktree from its parent (or its
 * existing candidate), proposal and commit, the editable check, the run under
 * budget, the measurement, the acceptance decision, keep or discard, cleanup.
 * Every step is in the ledger before the next begins. A trial measured by an
 * earlier session that stopped before deciding resumes at its decision.
 *
 * Returns the trial as the ledger has it: final, or still live with its
 * measurement when the study stopped during the decision (the next session
 * resumes it).
 */
export async function executeTrial(opened: OpenedStudy, queued: TrialRecord, deps: TrialDependencies): Promise<TrialRecord> {
  const { trials, study, repo, research } = opened;
  const resuming = awaitsDecision(queued);
  // A trial left running by a killed orchestrator whose job is still alive: wait for it instead of starting it again.
  const attaching = !resuming && queued.status === 'running' && queued.externalId !== null;
  let release: (() => void) | undefined;
  const worktree = deps.worktree;
  const projectDir = opened.projectPrefix ? join(worktree, opened.projectPrefix) : worktree;
  const logPath = join(opened.logsDir, `${queued.seq}${queued.attempt > 1 ? `-attempt${queued.attempt}` : ''}.log`);
  let trial = queued;
  let best = trials.best();
  const finish = (outcome: Outcome): TrialRecord => trials.finish(trial, outcome.status, outcome.cause, outcome.reason, outcome.facts, best?.metric ?? null);

  try {
    let notes: readonly string[] = [];
    if (!resuming) {
      // The serial loop proposes in this very worktree: its files are the candidate already, so skip a checkout.
      if (!attaching && !(deps.worktreeHolds !== undefined && deps.worktreeHolds === trial.candidateCommit)) await repo.prepareWorktree(worktree, trial.candidateCommit ?? trial.parentCommit!);

      if (trial.candidateCommit === null && trial.role === 'candidate') {
        const proposed = await propose(opened, trial, deps, worktree, projectDir, best);
        if ('unrun' in proposed) return proposed.unrun.cause === 'stopped' ? trials.interrupt(trial, 'stopped', proposed.unrun.reason) : finish({ status: 'invalid', cause: proposed.unrun.cause, reason: proposed.unrun.reason, facts: NO_RUN });
        trial = proposed.trial;
      }
      if (trial.role === 'baseline' && trial.candidateCommit === null) {
        trial = trials.propose(trial, { description: trial.description, candidateCommit: trial.parentCommit, diff: '', params: null, paramsKey: null, meta: null });
      }
      if (deps.signal.aborted) return trials.interrupt(trial, 'stopped', 'stopped before the run started');

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
      if (!attaching) trial = trials.start(trial, { worktree, logPath, executor: deps.executor.kind, slot: deps.slot ?? null });
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
      notes = staged.notes;
      if (staged.invalid !== null || run === null) return finish({ status: 'invalid', cause: 'run', reason: staged.invalid ?? 'nothing ran', facts: factsOf(run, null, null) });
      const measured = measureRun(opened, run, limits);
      if (!measured.ok) {
        const facts = factsOf(run, measured.metric, measured.metrics);
        if (measured.status === 'interrupted') return trials.finish(trial, 'interrupted', 'stopped', measured.reason, facts);
        return finish({ status: measured.status, cause: 'run', reason: withStageNotes(measured.reason, notes), facts });
      }
      // A repeat (a cluster job of one followed after a stop) has no decision of its own: its measurement is its result.
      if (REPEAT_ROLES.includes(trial.role)) return finish({ status: 'discard', cause: 'run', reason: withStageNotes(`${trial.role}: measured ${research.metric.name}=${measured.metric}`, notes), facts: factsOf(run, measured.metric, measured.metrics) });
      // In the ledger before any decision: a stop from here on resumes the decision, it never loses the run.
      trial = trials.measure(trial, factsOf(run, measured.metric, measured.metrics) as RunFacts & { metric: number });
      await chaosPoint('measured');
    }
    // A candidate is judged against the baseline's result: one that ran beside the baseline waits for it.
    if (trial.role !== 'baseline' && deps.beforeJudge && !(await deps.beforeJudge())) return trials.get(trial.id);
    const metric = trial.metric!;
    const facts = factsOf(null, metric, trial.metrics, trial);

    // Other slots may have moved the incumbent while this trial ran: decide against the current one, one decision at a time.
    release = await deps.decisionLock?.acquire();
    best = trials.best();
    // The acceptance rule may ask for reruns; the lock is handed back while they run (acceptance-decision.ts).
    const lock = { release: () => { release?.(); release = undefined; }, acquire: async () => { release = await deps.decisionLock?.acquire(); } };
    const decided = await decideTrial(opened, trial, metric, deps, lock, notes);
    // Stopped while deciding: the trial stays live with its measurement and the next session resumes the decision.
    if (decided.status === 'interrupted') return trials.get(trial.id);
    best = decided.best;
    let outcome: Outcome = { status: decided.status, cause: decided.cause, reason: decided.reason, facts };
    if (trial.role === 'screen' && (outcome.status === 'keep' || outcome.status === 'discard')) outcome = { ...outcome, status: 'discard', reason: screeningReason(trialLimits(research, trial).budgetMs) };
    if (outcome.status === 'keep' || outcome.status === 'discard') {
      const stale = await settleStaleCandidate(opened, trial, metric, best, deps.acceptance);
      if (stale) return opened.ledger.transaction(() => finish({ ...outcome, status: 'discard', cause: 'stale', reason: stale.record() }));
    }
    if (outcome.status !== 'keep') return finish(outcome);
    const kept = await keep(opened, trial, outcome, best);
    // The holdout needs a device and may take long: the next decision need not wait for it (and must not: a trial holding
    // a device while it waits for this lock would leave the holdout without one).
    release?.();
    release = undefined;
    await runHoldout(opened, kept, { executor: deps.executor, signal: deps.signal, checkout: `${worktree}-holdout` });
    return trials.get(trial.id);
  } catch (error) {
    // Strata itself failed (git, the file system, the ledger). A measured trial stays live for its decision to resume.
    try {
      const current = trials.get(trial.id);
      if (!awaitsDecision(current)) trials.interrupt(current, 'orchestrator-error', `orchestrator error: ${errorMessage(error)}`);
    } catch {
      // The ledger itself is what failed: recovery at the next start finds the trial live and settles it.
    }
    throw error;
  } finally {
    release?.();
    await repo.cleanWorktree(worktree);
  }
}

/**
 * Keep a trial: commit its tree onto the best, record the keep, move the
 * study branch. The branch is checked first: if it was moved outside Strata
 * the keep waits (the trial stays measured) and the study pauses with the
 * command that puts the branch back.
 */
async function keep(opened: OpenedStudy, trial: TrialRecord, outcome: Outcome, best: TrialRecord | undefined): Promise<TrialRecord> {
  const { trials, study, repo, research } = opened;
  const tip = best?.keptCommit ?? trial.parentCommit!;
  const branchRef = `refs/heads/${opened.branch}`;
  const branchTip = await repo.resolveCommit(branchRef);
  if (branchTip !== null && branchTip !== tip && !(await repo.isAncestor(branchTip, tip))) throw new BranchMovedError(opened.branch, branchTip, tip);
  const message = `${trial.description}\n\nStrata-Study: ${study.name}\nStrata-Trial: ${trial.seq}\nStrata-Metric: ${research.metric.name}=${outcome.facts.metric}\n`;
  const kept = trial.role === 'baseline' ? trial.candidateCommit! : await repo.commitTreeOnto(trial.candidateCommit!, tip, message);
  await chaosPoint('before-keep');
  const keptTrial = trials.keep(trial, kept, outcome.reason ?? '', outcome.facts, best?.metric ?? null);
  await chaosPoint('after-keep');
  // The ledger is written first: a kill here leaves the branch behind, and recovery moves it.
  if (kept !== branchTip) await repo.moveRef(branchRef, kept, branchTip ?? undefined);
  return keptTrial;
}

/** What a run produced, for the ledger; from the trial's own measurement when it is resumed. */
function factsOf(run: ExecutionResult | null, metric: number | null, metrics: Record<string, number> | null, measured?: TrialRecord): RunFacts {
  if (measured) return { metrics: measured.metrics, metric, exitCode: measured.exitCode, signal: measured.signal, wallMs: measured.wallMs, peakRssKb: measured.peakRssKb, logTail: measured.logTail };
  return { metrics, metric, exitCode: run?.exitCode ?? null, signal: run?.signal ?? null, wallMs: run?.wallMs ?? null, peakRssKb: run?.peakRssKb ?? null, logTail: run ? run.logTail.join('\n') : null };
}

/** Ask the proposer for a candidate in `worktree` (checked out at the trial's parent) and commit it; used ahead of the run by the scheduler. */
export async function propose(
  opened: OpenedStudy,
  trial: TrialRecord,
  deps: TrialDependencies,
  worktree: string,
  projectDir: string,
  best: TrialRecord | undefined,
): Promise<{ trial: TrialRecord } | { unrun: { cause: Extract<TrialCause, 'stopped' | 'proposal-failed' | 'no-change' | 'forbidden-change'>; reason: string } }> {
  const { trials, study, repo, research } = opened;
  const history = trials.all().filter((other) => other.id !== trial.id);
  let proposal;
  let guidance;
  try {
    // Read afresh for every proposal: notes added and program edits made since the last one count from this one on.
    guidance = proposalGuidance(opened);
    // Repeat runs only measure noise: the decision on the trial they repeat says what they found.
    const finished = history.filter((other) => other.status !== 'running' && other.status !== 'queued' && !REPEAT_ROLES.includes(other.role));
    // A repair starts from the crashed candidate it fixes (see Proposer.repairTarget). Other linked trials are no repair:
    // a veto's redo of a conflicted keep starts from a kept commit, and was told to fix a crash of the keep it started from.
    const repaired = trial.relatedTrialId === null ? undefined : finished.findLast((other) => other.candidateCommit === trial.parentCommit && other.status === 'crash');
    const stale = staleSpeculationOf(trial);
    proposal = await deps.proposer.propose({
      seq: trial.seq,
      trialId: trial.id,
      ...(repaired ? { repairOf: summarize(research.metric.goal)(repaired) } : {}),
      ...(stale ? { revising: { description: stale.description, keptSeq: stale.keptSeq, reapplied: stale.rebasedCommit !== null, conflicts: stale.conflicts } } : {}),
      config: research,
      goal: research.metric.goal,
      history: finished.map(summarize(research.metric.goal)),
      best: best ? summarize(research.metric.goal)(best) : undefined,
      inFlight: history.filter((other) => other.status === 'running' || other.status === 'queued').map(summarize(research.metric.goal)),
      projectDir,
      rng: Random.fromSeed(`${deps.studySeed}:${trial.seq}:${trial.attempt}`),
      signal: deps.signal,
      guidance,
    });
  } catch (error) {
    // Ctrl-C while the proposer works (a model call, a coding agent) is a stop, not a bad proposal.
    if (deps.signal.aborted) return { unrun: { cause: 'stopped', reason: 'stopped while the proposal was being made' } };
    deps.observer.proposalFailed?.(trial.seq, errorMessage(error));
    const stop = studyStopFor(error);
    if (stop) deps.stopStudy?.(stop);
    return { unrun: { cause: 'proposal-failed', reason: `proposal failed: ${errorMessage(error)}` } };
  }
  const description = oneLine(proposal.description) || `${deps.proposer.name} proposal`;
  const committed = await repo.commitWorktree(worktree, trial.parentCommit!, `${description}\n\nStrata-Study: ${study.name}\nStrata-Trial: ${trial.seq}\n`);
  const params = proposal.params ?? null;
  const key = params ? paramsKey(params) : null;
  // The count of wasted speculative proposals outlives the proposal that replaces them.
  const speculation = trial.meta?.speculation;
  const meta = speculation === undefined ? (proposal.meta ?? null) : { ...(proposal.meta ?? {}), speculation };
  const stamped = withGuidance(meta, guidance);
  const record = (candidateCommit: string | null, diff: string) => trials.propose(trial, { description, candidateCommit, diff, params, paramsKey: key, meta: stamped });
  if (committed === null) {
    record(null, '');
    return { unrun: { cause: 'no-change', reason: 'the proposal changed nothing' } };
  }
  // A ref per trial keeps its commit reachable (re-runs after a kill, audits) even when discarded.
  await repo.moveRef(`refs/strata/${study.name}/trials/${trial.seq}-${trial.attempt}`, committed.commit);
  const proposed = record(committed.commit, committed.diff);
  const forbidden = forbiddenChanges(committed.changes, {
    projectPrefix: opened.projectPrefix,
    editable: research.editable,
    alsoAllowed: research.proposer === 'search' ? [PARAMS_FILE] : [],
  });
  if (forbidden.length > 0) return { unrun: { cause: 'forbidden-change', reason: `changed files outside research.editable: ${forbidden.join(', ')}` } };
  return { trial: proposed };
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
    cause: trial.cause,
    relatedTrialId: trial.relatedTrialId,
    ...oversightFacts(trial),
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
