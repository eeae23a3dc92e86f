import { chaosPoint } from '../study/chaos-point.ts';
import { dirname, join } from 'node:path';
import type { Acceptance } from '../core/acceptance.ts';
import type { StudyConfig } from '../core/config/parse-config.ts';
import { BranchMovedError, BudgetExhaustedError } from '../core/errors.ts';
import type { Executor } from '../core/executor.ts';
import type { Proposer } from '../core/proposer.ts';
import { hashString } from '../core/random.ts';
import { FAILED_PROPOSAL_CAUSES, REPEAT_ROLES, type TrialRole } from '../core/trial.ts';
import type { TrialRecord } from '../ledger/records.ts';
import { openAgentProposer } from '../proposers/agent/open-agent-proposer.ts';
import { CommandProposer } from '../proposers/command/command-proposer.ts';
import { openSearchProposer } from '../proposers/search/open-search-proposer.ts';
import { createExecutor, withSharedDir } from './create-executor.ts';
import { summarize } from './execute-trial.ts';
import { budgetForRole } from './fidelity.ts';
import { ensureFinalHoldout } from './holdout-stage.ts';
import type { StudyStop } from './proposal-stop.ts';
import { openResearchStudy, type OpenedStudy } from './open-study.ts';
import { recoverStudy } from './recover-study.ts';
import type { ResearchObserver } from './research-observer.ts';
import { runSchedule, type StopDecision } from './scheduler.ts';
import { DecisionLock } from './decision-lock.ts';
import { watchResearch, type ResearchOversight } from '../oversight/research-oversight.ts';
import { summarizeStudy, type StudySummary } from './study-summary.ts';
import { prepareStudyTrust } from './study-trust.ts';

export interface RunResearchOptions {
  /** Path of strata.yaml. */
  configPath: string;
  config: StudyConfig;
  /** Abort = stop gracefully: the running trial is killed and the study paused. */
  signal?: AbortSignal;
  observer?: ResearchObserver;
  /** Override the proposer named in the config (tests, library users). */
  proposer?: Proposer;
  executor?: Executor;
  acceptance?: Acceptance;
  ledgerPath?: string;
  /** The commit a new study starts from (default HEAD); ignored when the study exists. Pipelines start stages from hand-off commits. */
  baseCommit?: string;
}

/** Consecutive proposal failures after which the study pauses instead of burning trials. */
const MAX_FAILED_PROPOSALS = 5;

/**
 * Run (or resume) the research study a config describes until its budget ends
 * (max_trials, max_time) or the signal aborts.
 *
 * @example
 * const summary = await runResearch({ configPath: 'strata.yaml', config: parseConfig(text) });
 * console.log(summary.best?.metric);
 */
export async function runResearch(options: RunResearchOptions): Promise<StudySummary> {
  const opened = withSharedDir(
    await openResearchStudy({
      configPath: options.configPath,
      config: options.config,
      ...(options.ledgerPath ? { ledgerPath: options.ledgerPath } : {}),
      ...(options.baseCommit ? { baseCommit: options.baseCommit } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    }),
  );
  const { ledger, study, session, trials } = opened;
  const observer = options.observer ?? {};
  const signal = session.signal;
  let oversight: ResearchOversight | undefined;
  try {
    const executor = options.executor ?? createExecutor(opened);
    const recovery = await recoverStudy(opened, executor);
    // A branch moved outside Strata is the user's: pause before anything runs, with the command that puts it back.
    if (recovery.branchMoved) throw new BranchMovedError(opened.branch, recovery.branchMoved.tip, recovery.branchMoved.best);
    // The acceptance rule, the integrity reference and the sandbox; refuses to start what it cannot enforce.
    const trust = await prepareStudyTrust(opened, executor.kind);
    const proposer = options.proposer ?? (await createProposer(opened, signal));
    observer.studyStarted?.({
      study: study.name,
      branch: opened.branch,
      budgetMs: opened.research.budgetMs,
      proposer: proposer.name,
      resumed: opened.resumed,
      recovery,
      warnings: opened.warnings,
      acceptance: (options.acceptance ?? trust.acceptance).name,
      sandbox: trust.sandbox.summary,
    });
    let requestedStop: StudyStop | undefined;
    // One decision lock for keeps and for vetoes asked for while the study runs (strata veto from another terminal).
    const decisionLock = new DecisionLock();
    oversight = watchResearch(opened, decisionLock);
    const deps = {
      decisionLock,
      proposer,
      stopStudy: (request: StudyStop) => {
        requestedStop ??= request;
      },
      executor,
      acceptance: options.acceptance ?? trust.acceptance,
      observer,
      signal,
      studySeed: opened.research.search.seed ?? hashString(study.name),
    };
    const sessionStart = Date.now();
    const elapsedBefore = elapsedInEarlierSessions(opened);
    const elapsed = () => elapsedBefore + Date.now() - sessionStart;
    let failedProposals = 0;
    const stop = await runSchedule({
      opened,
      deps,
      executorConfig: opened.research.executor,
      reattach: trials.all().filter((trial) => recovery.reattached.includes(trial.seq)),
      policy: {
        nextTrial: (claimed, role) => nextTrial(opened, proposer, claimed, role),
        stopCondition: () => requestedStop ?? stopCondition(opened, signal, elapsed()),
        drainCondition: () => oversight?.drainCondition(),
        timeLeftMs: () => (opened.research.maxTimeMs === undefined ? undefined : opened.research.maxTimeMs - elapsed()),
        counts: countsAgainstMaxTrials,
        afterTrial: (finished) => {
          failedProposals = finished.cause !== null && FAILED_PROPOSAL_CAUSES.includes(finished.cause) ? failedProposals + 1 : 0;
          if (requestedStop) return requestedStop;
          oversight?.afterTrial(finished, { ...(opened.research.maxTrials !== undefined ? { maxTrials: opened.research.maxTrials } : {}), counted: countedTrials(opened), ...(opened.research.maxTimeMs !== undefined ? { maxTimeMs: opened.research.maxTimeMs } : {}), elapsedMs: elapsed() });
          if (finished.role === 'baseline' && finished.status !== 'keep' && finished.status !== 'interrupted') {
            return { state: 'failed', cause: 'baseline-failed', reason: `the baseline (unmodified code) ended ${finished.status}: ${finished.statusReason ?? ''}; fix the training script or config, then run again` };
          }
          if (failedProposals >= MAX_FAILED_PROPOSALS) {
            return { state: 'paused', cause: 'proposals-failing', reason: `${failedProposals} proposals in a row failed (last: ${finished.statusReason}); fix the cause and run again to resume` };
          }
          return undefined;
        },
      },
    });
    await ensureFinalHoldout(opened, { executor, signal, checkout: join(opened.worktreesDir, 'holdout') });
    // Worktrees go before the study ends: a kill between the two leaves a study that is not done, whose next session
    // prunes them on recovery; the other way round it left a done study (never resumed) with its worktrees behind.
    await opened.repo.pruneWorktrees(opened.worktreesDir);
    await chaosPoint('ending');
    session.end(stop.state, stop.reason, stop.cause ?? (stop.state === 'done' ? 'complete' : session.stoppedByUser ? 'user' : 'error'));
    const summary = summarizeStudy(ledger, ledger.study(study.id));
    observer.studyFinished?.(summary);
    return summary;
  } catch (error) {
    if (error instanceof BudgetExhaustedError) {
      // A budget already spent (e.g. resuming with llm.max_usd used up) ends the study; it is not a failure.
      session.end('done', error.message, 'complete');
      const summary = summarizeStudy(ledger, ledger.study(study.id));
      observer.studyFinished?.(summary);
      return summary;
    }
    session.endOnError(error);
    throw error;
  } finally {
    await oversight?.settle();
    session.close();
    ledger.close();
  }
}

/** The proposer the config names; an agent proves its model answers (one cheap call) before any trial runs. */
async function createProposer(opened: OpenedStudy, signal: AbortSignal): Promise<Proposer> {
  const { research } = opened;
  const configDir = dirname(opened.configPath);
  if (research.proposer === 'search') {
    return openSearchProposer({ research, studyName: opened.study.name, configDir, ledger: opened.ledger });
  }
  if (research.proposer === 'agent') {
    return openAgentProposer({ ledger: opened.ledger, studyId: opened.study.id, llm: opened.config.llm!, research, configDir, signal });
  }
  const command = await CommandProposer.open({ research, configDir, transcriptsDir: join(opened.logsDir, 'agent') });
  // The agent's sandbox says here when it cannot confine the agent on this machine.
  opened.warnings.push(...command.warnings);
  return command;
}

/** Does a trial count against max_trials? Every finished one except interrupted attempts and failed proposals (nothing ran). */
export function countsAgainstMaxTrials(trial: TrialRecord): boolean {
  return (
    // Repeat runs are the acceptance rule's cost, not proposals: max_trials counts what was tried.
    !REPEAT_ROLES.includes(trial.role) &&
    trial.status !== 'interrupted' &&
    trial.status !== 'queued' &&
    trial.status !== 'running' &&
    !(trial.cause !== null && FAILED_PROPOSAL_CAUSES.includes(trial.cause))
  );
}

function countedTrials(opened: OpenedStudy): number {
  return opened.ledger.trials(opened.study.id).filter(countsAgainstMaxTrials).length;
}

function stopCondition(opened: OpenedStudy, signal: AbortSignal, elapsedMs: number): StopDecision | undefined {
  if (signal.aborted) return { state: 'paused', cause: 'user', reason: 'stopped by the user; run again to resume' };
  const { maxTrials, maxTimeMs } = opened.research;
  if (maxTrials !== undefined && countedTrials(opened) >= maxTrials) return { state: 'done', cause: 'complete', reason: `max_trials reached (${maxTrials})` };
  if (maxTimeMs !== undefined && elapsedMs >= maxTimeMs) return { state: 'done', cause: 'complete', reason: `max_time reached (${Math.round(maxTimeMs / 1000)}s)` };
  return undefined;
}

/**
 * Time already spent in earlier sessions: from each session's start event to
 * its end event (or, after a kill, to its last finished trial).
 */
function elapsedInEarlierSessions(opened: OpenedStudy): number {
  let total = 0;
  let start: number | undefined;
  let last: number | undefined;
  const events = opened.ledger.events(opened.study.id);
  for (const event of events.slice(0, -1)) {
    const at = Date.parse(event.createdAt);
    if (event.type === 'study.created' || (event.type === 'study.state_changed' && (event.payload as { state: string }).state === 'running')) {
      if (start !== undefined && last !== undefined) total += last - start;
      start = at;
      last = at;
    } else if (start !== undefined) {
      last = at;
      if (event.type === 'study.state_changed') {
        total += last - start;
        start = undefined;
      }
    }
  }
  if (start !== undefined && last !== undefined) total += last - start;
  return total;
}

/**
 * The next trial to prepare: a queued one the scheduler does not hold yet, else the baseline, else a new
 * candidate from the best (a screen at the short budget when research.fidelity is on).
 */
function nextTrial(opened: OpenedStudy, proposer: Proposer, claimed: ReadonlySet<number>, role: Exclude<TrialRole, 'baseline'>): TrialRecord {
  const { trials, study, research } = opened;
  const all = trials.all();
  // Repeat runs are their decision's to run, never a proposal's.
  const queued = all.find((trial) => trial.status === 'queued' && !claimed.has(trial.id) && !REPEAT_ROLES.includes(trial.role));
  if (queued) return queued;
  // A baseline that ended for good, is live, or has a new attempt coming: the study has its baseline.
  const hasBaseline = all.some((trial) => trial.role === 'baseline' && trial.status !== 'interrupted');
  const best = trials.best();
  // Crash repair: the proposer may ask to start from a crashed candidate instead of the best.
  const repair = hasBaseline ? proposer.repairTarget?.(all.map(summarize(research.metric.goal))) : undefined;
  const parent = repair?.from.candidateCommit ?? best?.keptCommit ?? study.baseCommit!;
  if (!hasBaseline) return trials.queue({ role: 'baseline', proposer: 'baseline', description: 'baseline (unmodified)', parentCommit: study.baseCommit!, budgetMs: research.budgetMs });
  return trials.queue({ role, proposer: proposer.name, description: '', parentCommit: parent, relatedTrialId: repair?.relatedTrialId ?? null, budgetMs: budgetForRole(research, role) });
}
