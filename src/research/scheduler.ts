/**
 * Keeps every slot busy. Trials run on `research.executor.slots` slots at
 * once; proposals are prepared ahead in their own worktrees (a bounded queue
 * of ready candidates), so a slot that frees up starts its next trial at once
 * instead of waiting for the proposer. One slot with no lookahead is the
 * serial loop: each proposal is made when the slot is free and sees every
 * earlier result.
 *
 * Order of work for a free slot: trials already queued in the ledger (re-runs
 * of interrupted or rebased trials), then a promotion to the full budget
 * (research.fidelity), then the oldest ready proposal. Candidates may run
 * beside the baseline, but each is judged only once the baseline has a result
 * (a finished run waits for it), so no slot idles through the first budget.
 */
import { join } from 'node:path';
import type { ExecutorConfig } from '../core/config/executor-config.ts';
import { errorMessage } from '../core/errors.ts';
import type { StudyState, TrialRole } from '../core/trial.ts';
import { FINAL_STATUSES } from '../core/trial.ts';
import type { TrialRecord } from '../ledger/records.ts';
import { DecisionLock } from './decision-lock.ts';
import { executeTrial, type TrialDependencies } from './execute-trial.ts';
import { nextPromotion, promote } from './fidelity.ts';
import type { OpenedStudy } from './open-study.ts';
import { finishUnrun, prepareCandidate } from './prepare-candidate.ts';
import { DevicePool, type DeviceLease } from './device-pool.ts';
import { makeSlots, slotExecutor, type Slot } from './slot-executor.ts';

/** Why and how a study stops. */
export interface StopDecision {
  state: Exclude<StudyState, 'running'>;
  reason: string;
}

/** The study-level policy the scheduler asks; run-research.ts supplies it. */
export interface SchedulerPolicy {
  /** The next trial to prepare, created in the ledger when none is queued (unclaimed queued trials first, then the baseline, then a fresh one of `role`). */
  nextTrial(claimed: ReadonlySet<number>, role: Exclude<TrialRole, 'baseline'>): TrialRecord;
  /** A reason to stop before starting more work: the user's signal, max_trials, max_time. */
  stopCondition(): StopDecision | undefined;
  /** A reason to stop after this trial ended: a failed baseline, repeated failed proposals. */
  afterTrial(finished: TrialRecord): StopDecision | undefined;
  /** Milliseconds left until max_time, if there is one. */
  timeLeftMs(): number | undefined;
  /** Trials that count against max_trials among these (finished ones, except interrupted ones and failed proposals). */
  counts(trial: TrialRecord): boolean;
}

export interface ScheduleOptions {
  opened: OpenedStudy;
  /** Shared by every trial; `worktree` is set per slot or proposal worker. */
  deps: Omit<TrialDependencies, 'worktree'>;
  executorConfig: ExecutorConfig;
  policy: SchedulerPolicy;
  /** Trials left running by an earlier orchestrator whose jobs are still alive: waited for, not re-run. */
  reattach?: readonly TrialRecord[];
}

/**
 * Run trials on every slot until the policy says stop; returns why. In-flight
 * trials are interrupted when the study stops early (Ctrl-C, max_time, a
 * failed baseline), and proposals that never started are marked interrupted
 * so a resumed study re-queues them.
 *
 * @example
 * const stop = await runSchedule({ opened, deps, executorConfig: research.executor, policy });
 */
export async function runSchedule(options: ScheduleOptions): Promise<StopDecision> {
  const { opened, executorConfig, policy } = options;
  const { ledger, study, research } = opened;
  const slots = makeSlots(opened.worktreesDir, executorConfig.slots, executorConfig.gpus);
  // The serial loop proposes in its one slot's worktree (idle while it proposes): one checkout per trial instead of two.
  const serial = slots.length === 1 && executorConfig.lookahead === 0;
  const proposalWorktrees = serial
    ? [slots[0]!.worktree]
    : Array.from({ length: executorConfig.concurrentProposals }, (_, index) => join(opened.worktreesDir, `propose-${index}`));
  const stopWork = new AbortController();
  const signal = AbortSignal.any([options.deps.signal, stopWork.signal]);
  const decisionLock = new DecisionLock();
  const wake = new Wakeup(signal);

  /** Who holds each slot's device: outside the serial loop a trial holds it only while its process runs. */
  const devices = new DevicePool(slots, () => wake.notify());
  /** Every trial this session is running or still judging, by trial id. */
  const trialWork = new Map<number, Promise<void>>();
  // Worktrees are not tied to slots: a trial still being judged and cleaned keeps its worktree while the
  // slot's device starts the next trial in another one, checked out ahead of time when possible.
  const worktrees = slots.map((slot) => slot.worktree);
  const busyWorktrees = new Set<string>();
  /** Worktree → the commit checked out in it ahead of its trial. */
  const prefetched = new Map<string, string>();
  const prefetching = new Set<Promise<void>>();
  const proposing = new Map<number, Promise<void>>();
  const freeProposalWorktrees = [...proposalWorktrees];
  const ready: TrialRecord[] = [];
  const claimed = new Set<number>();
  let stop: StopDecision | undefined;
  /** Serial loop: the trial whose candidate was just committed in the slot's own worktree (so it needs no checkout). */
  let proposedHere: number | undefined;
  let fatal: { error: unknown } | undefined;

  ledger.record('study.session_started', { studyId: study.id, slots: slots.length, executor: options.deps.executor.kind, lookahead: executorConfig.lookahead }, { studyId: study.id });

  let baselineWaiters: (() => void)[] = [];
  const wakeBaselineWaiters = () => {
    const waiters = baselineWaiters;
    baselineWaiters = [];
    for (const resume of waiters) resume();
  };
  signal.addEventListener('abort', wakeBaselineWaiters, { once: true });
  const baselineSettled = () => ledger.trials(study.id).some((trial) => trial.role === 'baseline' && isFinal(trial.status) && trial.status !== 'interrupted');
  /** Resolves true once a baseline result exists, false if the study stops first. */
  const waitForBaseline = async (): Promise<boolean> => {
    while (!baselineSettled()) {
      if (signal.aborted) return false;
      await new Promise<void>((resume) => baselineWaiters.push(resume));
    }
    return true;
  };

  const depsFor = (worktree: string, slot?: Slot, trial?: TrialRecord, lease?: DeviceLease): TrialDependencies => ({
    ...options.deps,
    signal,
    worktree,
    decisionLock,
    ...(slot
      ? {
          slot: slot.name,
          executor: slotExecutor(options.deps.executor, slot, ledger, study.id, {
            ...(trial?.role === 'baseline' ? {} : { beforeResult: waitForBaseline }),
            // Outside the serial loop the device is free as soon as the process ends; judging and cleanup go on beside the next trial.
            ...(serial || !lease ? {} : { pool: { devices, lease, signal } }),
          }),
        }
      : {}),
  });

  const trialEnded = (finished: TrialRecord) => {
    options.deps.observer.trialFinished?.(finished, currentBest());
    stop ??= policy.afterTrial(finished);
    wakeBaselineWaiters();
  };

  const currentBest = () => {
    const id = ledger.study(study.id).bestTrialId;
    return id === null ? undefined : ledger.trial(id);
  };

  const wantedCommits = () => new Set(ready.slice(0, slots.length).map((trial) => trial.candidateCommit).filter((commit): commit is string => commit !== null));
  const isIdle = (worktree: string) => !busyWorktrees.has(worktree) && !(proposalWorktrees.includes(worktree) && !freeProposalWorktrees.includes(worktree));
  /** A worktree for a trial: one holding its commit already, else one holding nothing anyone waits for, else a new one. */
  const acquireWorktree = (commit: string | null): string => {
    const wanted = wantedCommits();
    const idle = worktrees.filter(isIdle);
    const chosen =
      idle.find((worktree) => commit !== null && prefetched.get(worktree) === commit) ??
      idle.find((worktree) => !wanted.has(prefetched.get(worktree) ?? '')) ??
      idle[0] ??
      join(opened.worktreesDir, `spare-${worktrees.length}`);
    if (!worktrees.includes(chosen)) worktrees.push(chosen);
    busyWorktrees.add(chosen);
    return chosen;
  };

  const startOnSlot = (slot: Slot, trial: TrialRecord, fixedWorktree?: string): void => {
    claimed.add(trial.id);
    const worktree = fixedWorktree ?? (serial ? slot.worktree : acquireWorktree(trial.candidateCommit));
    busyWorktrees.add(worktree);
    const ahead = prefetched.get(worktree);
    prefetched.delete(worktree);
    const holds = serial ? (trial.id === proposedHere ? trial.candidateCommit : null) : ahead === trial.candidateCommit ? ahead : null;
    const lease = devices.take(slot);
    const work = (async () => {
      try {
        const deps = depsFor(worktree, slot, trial, lease);
        trialEnded(await executeTrial(opened, trial, { ...deps, ...(holds ? { worktreeHolds: holds } : {}) }));
      } catch (error) {
        finishUnrun(opened, trial.id, 'interrupted', `orchestrator error: ${errorMessage(error)}`);
        fatal ??= { error };
      } finally {
        // The serial loop's trial (or one that never reached its run) still holds the device.
        devices.release(lease);
        busyWorktrees.delete(worktree);
        trialWork.delete(trial.id);
        claimed.delete(trial.id);
        wake.notify();
      }
    })();
    trialWork.set(trial.id, work);
  };

  /** Check out the next ready candidates in idle worktrees while every device is busy, so a freed slot starts without a checkout. */
  const prefetch = (): void => {
    const pending = new Set(prefetched.values());
    for (const commit of wantedCommits()) {
      if (pending.has(commit)) continue;
      const wanted = wantedCommits();
      const worktree = worktrees.filter(isIdle).find((candidate) => !wanted.has(prefetched.get(candidate) ?? ''));
      if (!worktree && worktrees.length >= slots.length * 2) return;
      const target = worktree ?? join(opened.worktreesDir, `spare-${worktrees.length}`);
      if (!worktrees.includes(target)) worktrees.push(target);
      busyWorktrees.add(target);
      prefetched.set(target, commit);
      pending.add(commit);
      const job: Promise<void> = opened.repo
        .prepareWorktree(target, commit)
        .catch((error: unknown) => {
          prefetched.delete(target);
          fatal ??= { error };
        })
        .finally(() => {
          busyWorktrees.delete(target);
          prefetching.delete(job);
          wake.notify();
        });
      prefetching.add(job);
    }
  };

  const startProposal = (): void => {
    const worktree = freeProposalWorktrees.shift()!;
    const trial = policy.nextTrial(claimed, research.fidelity ? 'screen' : 'candidate');
    claimed.add(trial.id);
    const work = (async () => {
      try {
        const prepared = await prepareCandidate(opened, trial, depsFor(worktree), { keepWorktree: serial });
        if ('ready' in prepared) {
          ready.push(prepared.ready);
          if (trial.candidateCommit === null && trial.role !== 'baseline') proposedHere = prepared.ready.id;
          return;
        }
        claimed.delete(trial.id);
        trialEnded(prepared.finished);
      } catch (error) {
        claimed.delete(trial.id);
        finishUnrun(opened, trial.id, 'interrupted', `orchestrator error while proposing: ${errorMessage(error)}`);
        fatal ??= { error };
      } finally {
        proposing.delete(trial.id);
        freeProposalWorktrees.push(worktree);
        wake.notify();
      }
    })();
    proposing.set(trial.id, work);
  };

  /** The next trial a free slot should run, or undefined to wait. */
  const pickRunnable = (): TrialRecord | undefined => {
    const trials = ledger.trials(study.id);
    const finished = trials.filter((trial) => policy.counts(trial)).length;
    if (research.maxTrials !== undefined && finished + trialWork.size >= research.maxTrials) return undefined;
    const queued = trials.find((trial) => trial.status === 'queued' && !claimed.has(trial.id) && (trial.candidateCommit !== null || trial.role === 'baseline'));
    if (queued) return queued;
    if (research.fidelity) {
      const screen = nextPromotion(trials, research.fidelity, research.metric.goal);
      if (screen) return promote(opened, screen);
    }
    return ready.shift();
  };

  /** May another proposal start? Bounded by the ready queue's target and by max_trials. */
  const wantsProposal = (): boolean => {
    if (freeProposalWorktrees.length === 0 || proposing.size >= executorConfig.concurrentProposals) return false;
    const free = slots.length - devices.busy;
    if (ready.length + proposing.size >= free + executorConfig.lookahead) return false;
    if (research.maxTrials === undefined) return true;
    const committed = ledger.trials(study.id).filter((trial) => policy.counts(trial) || trial.status === 'queued' || trial.status === 'running').length;
    return committed < research.maxTrials;
  };

  for (const trial of options.reattach ?? []) {
    const free = devices.free();
    const slot = free.find((candidate) => candidate.name === trial.slot) ?? free[0];
    if (!slot) break;
    startOnSlot(slot, trial, trial.worktree ?? slot.worktree);
  }

  try {
    for (;;) {
      stop ??= fatal ? { state: 'failed', reason: errorMessage(fatal.error) } : policy.stopCondition();
      if (stop) break;
      for (const slot of slots) {
        if (devices.isHeld(slot) || (serial && !isIdle(slot.worktree))) continue;
        const trial = pickRunnable();
        if (!trial) break;
        startOnSlot(slot, trial);
      }
      while (!signal.aborted && wantsProposal()) startProposal();
      if (!serial && devices.busy === slots.length) prefetch();
      if (trialWork.size === 0 && proposing.size === 0) {
        // Nothing can start and nothing is in flight: only a bound (max_trials) can cause this, and stopCondition sees it next.
        stop = policy.stopCondition() ?? { state: 'done', reason: 'nothing left to run' };
        break;
      }
      await wake.wait(policy.timeLeftMs());
    }
  } finally {
    stopWork.abort();
    await Promise.all([...trialWork.values(), ...proposing.values(), ...prefetching]);
    for (const trial of ready.splice(0)) finishUnrun(opened, trial.id, 'interrupted', 'proposed ahead but not started before the study stopped');
    // Re-runs queued by a decision (a rebase onto the moved best) wait for the next session, where recovery re-queues them.
    for (const trial of ledger.trials(study.id)) {
      if (trial.status === 'queued' && !claimed.has(trial.id)) finishUnrun(opened, trial.id, 'interrupted', 'queued but not started before the study stopped');
    }
  }
  if (fatal) throw fatal.error;
  return stop;
}

function isFinal(status: TrialRecord['status']): boolean {
  return (FINAL_STATUSES as readonly string[]).includes(status);
}

/** Wakes the scheduler when any work item ends, the signal aborts, or a deadline passes. */
class Wakeup {
  private pending = false;
  private resolve: (() => void) | undefined;

  constructor(signal: AbortSignal) {
    signal.addEventListener('abort', () => this.notify(), { once: true });
  }

  notify(): void {
    this.pending = true;
    this.resolve?.();
  }

  async wait(timeoutMs?: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const timer = timeoutMs === undefined ? undefined : setTimeout(resolve, Math.max(0, timeoutMs));
      this.resolve = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.resolve = undefined;
    this.pending = false;
  }
}
