/**
 * Keeps every slot busy: the thin runner around the pure planner
 * (schedule/plan.ts). Trials run on `research.executor.slots` slots at once;
 * proposals are prepared ahead in their own worktrees (a bounded queue of
 * ready candidates), so a slot that frees up starts its next trial at once
 * instead of waiting for the proposer. One slot with no lookahead is the
 * serial loop: each proposal is made when the slot is free and sees every
 * earlier result. Speculation (`executor.speculate`, the default on one
 * slot) makes the next proposal while the slot runs, as if the running trial
 * will be discarded; a keep sends it back to the proposer on the new best
 * (speculation.ts) instead of running it on the old one.
 *
 * Each turn: take a snapshot (ledger + what this session has in flight),
 * ask the planner what to start, start it, then sleep until something ends.
 * The planner decides the order of work (resumed decisions, queued re-runs,
 * promotions, ready proposals) and when the session ends; this file only
 * acts: processes, worktrees, the ledger.
 */
import { join } from 'node:path';
import type { ExecutorConfig } from '../core/config/executor-config.ts';
import { errorMessage } from '../core/errors.ts';
import { FAILED_PROPOSAL_CAUSES, FINAL_STATUSES, type FinalTrialStatus, type TrialRole, REPEAT_ROLES } from '../core/trial.ts';
import type { TrialRecord } from '../ledger/records.ts';
import { chaosPoint } from '../study/chaos-point.ts';
import { watchProgress } from '../study/progress-watch.ts';
import { awaitsDecision } from '../study/study-trials.ts';
import { DecisionLock } from './decision-lock.ts';
import { DevicePool, type DeviceLease } from './device-pool.ts';
import { executeTrial, type TrialDependencies } from './execute-trial.ts';
import { nextPromotion, promote } from './fidelity.ts';
import type { OpenedStudy } from './open-study.ts';
import { prepareCandidate } from './prepare-candidate.ts';
import { planSchedule, type PlanSnapshot, type RunnableTrial, type StopDecision } from './schedule/plan.ts';
import { makeSlots, slotExecutor, type Slot } from './slot-executor.ts';
import { settleStaleSpeculation } from './speculation.ts';

export type { StopDecision } from './schedule/plan.ts';

/** The study-level policy the scheduler asks; run-research.ts supplies it. */
export interface SchedulerPolicy {
  /** The next trial to prepare, created in the ledger when none is queued (unclaimed queued trials first, then the baseline, then a fresh one of `role`). */
  nextTrial(claimed: ReadonlySet<number>, role: Exclude<TrialRole, 'baseline'>): TrialRecord;
  /** A reason to stop before starting more work: the user's signal, max_trials, max_time. */
  stopCondition(): StopDecision | undefined;
  /** A stop that lets work in flight finish first (`strata pause`, an oversight.pause_on condition): nothing new starts, and the session ends once idle. */
  drainCondition?(): StopDecision | undefined;
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
 * Run trials on every slot until the policy or the planner says stop; returns
 * why. In-flight trials are interrupted when the study stops early (Ctrl-C,
 * max_time, a failed baseline) — a measured one keeps its measurement and its
 * decision resumes next time — and proposals that never started are marked
 * interrupted so a resumed study re-queues them.
 *
 * @example
 * const stop = await runSchedule({ opened, deps, executorConfig: research.executor, policy });
 */
export async function runSchedule(options: ScheduleOptions): Promise<StopDecision> {
  const { opened, executorConfig, policy } = options;
  const { ledger, study, research, trials } = opened;
  const slots = makeSlots(opened.worktreesDir, executorConfig.slots, executorConfig.gpus);
  const speculate = executorConfig.speculate;
  // The serial loop proposes in its one slot's worktree (idle while it proposes): one checkout per trial instead of two.
  const serial = slots.length === 1 && executorConfig.lookahead === 0 && !speculate;
  const proposalWorktrees = serial
    ? [slots[0]!.worktree]
    : Array.from({ length: executorConfig.concurrentProposals }, (_, index) => join(opened.worktreesDir, `propose-${index}`));
  const stopWork = new AbortController();
  const signal = AbortSignal.any([options.deps.signal, stopWork.signal]);
  // Shared with the caller when it gives one: a veto applied by the running study takes the same lock as a keep.
  const decisionLock = options.deps.decisionLock ?? new DecisionLock();
  const wake = new Wakeup(signal);
  // A decision ends before its trial's cleanup: a speculative proposal waiting for it starts at once (see `waitsForDecision`).
  const decisions = new NotifyingDecisionLock(decisionLock, () => wake.notify());

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
  /** Speculation: fresh proposals made here → the best trial they assumed (null: none yet). */
  const assumedBest = new Map<number, number | null>();
  /**
   * One slot: the trials a speculative proposal was made beside (it assumed them discarded). It starts only once they are
   * decided, so a keep is known before it runs; the device itself is free as soon as their processes end. With several
   * slots nothing waits: a late keep makes a finished candidate a stale winner (rebase.ts).
   */
  const speculatedOn = new Map<number, number[]>();
  const waitsForDecision = (trial: TrialRecord): boolean =>
    (speculatedOn.get(trial.id) ?? []).some((id) => trialWork.has(id) && !FINAL_STATUSES.includes(trials.get(id).status as FinalTrialStatus));
  /** A ready speculative proposal whose best a keep has replaced (a candidate built on the new best, like a repair of one, is not). */
  const isStale = (trial: TrialRecord): boolean => {
    if (!speculate || !assumedBest.has(trial.id)) return false;
    const best = trials.best();
    return best !== undefined && best.id !== assumedBest.get(trial.id) && trial.parentCommit !== best.keptCommit;
  };

  ledger.record(
    'study.session_started',
    { studyId: study.id, slots: slots.length, executor: options.deps.executor.kind, lookahead: executorConfig.lookahead, ...(speculate ? { speculate } : {}) },
    { studyId: study.id },
  );

  let baselineWaiters: (() => void)[] = [];
  const wakeBaselineWaiters = () => {
    const waiters = baselineWaiters;
    baselineWaiters = [];
    for (const resume of waiters) resume();
  };
  signal.addEventListener('abort', wakeBaselineWaiters, { once: true });
  const baselineKept = () => trials.all().some((trial) => trial.role === 'baseline' && trial.status === 'keep');
  /** Resolves true once the baseline is kept; false if the study stops first (a failed baseline stops it). */
  const waitForBaseline = async (): Promise<boolean> => {
    while (!baselineKept()) {
      if (signal.aborted || stop) return false;
      await new Promise<void>((resume) => baselineWaiters.push(resume));
    }
    return true;
  };

  const depsFor = (worktree: string, slot?: Slot, trial?: TrialRecord, lease?: DeviceLease | 'none'): TrialDependencies => ({
    ...options.deps,
    signal,
    worktree,
    decisionLock: decisions,
    ...(trial && trial.role !== 'baseline' ? { beforeJudge: waitForBaseline } : {}),
    ...(slot
      ? {
          slot: slot.name,
          // Outside the serial loop the device is free as soon as the process ends; judging and cleanup go on beside the next trial.
          // A resumed decision ('none') holds no device at all: each of its runs waits for one.
          executor: slotExecutor(options.deps.executor, slot, trials, serial || !lease ? {} : { pool: { devices, lease: lease === 'none' ? undefined : lease, signal } }),
        }
      : {}),
  });

  /**
   * Speculating, a proposal failed beside a trial in flight (running or being decided): the next one waits for a new
   * result. Asked again at once with the same history, a proposer out of ideas fails again, and the streak of failures
   * paused the study (and stopped the trial it ran beside) before that trial's result could give it one.
   */
  let heldUntilResultsPass: number | undefined;
  const isResult = (trial: TrialRecord) => FINAL_STATUSES.includes(trial.status as FinalTrialStatus) && !(trial.cause !== null && FAILED_PROPOSAL_CAUSES.includes(trial.cause));
  const trialEnded = (finished: TrialRecord) => {
    // A trial stopped during its decision stays live (measured); only final ones are results.
    if (finished.status === 'queued' || finished.status === 'running') return;
    if (speculate && !isResult(finished) && [...trialWork.keys()].some((id) => id !== finished.id)) heldUntilResultsPass = trials.all().filter(isResult).length;
    options.deps.observer.trialFinished?.(finished, trials.best());
    stop ??= policy.afterTrial(finished);
    wakeBaselineWaiters();
  };

  const wantedCommits = () => new Set(ready.filter((trial) => !isStale(trial)).slice(0, slots.length).map((trial) => trial.candidateCommit).filter((commit): commit is string => commit !== null));
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
        // executeTrial has settled the trial in the ledger (interrupted, or live with its measurement).
        fatal ??= { error };
      } finally {
        // The serial loop's trial (or one that never reached its run) still holds the device.
        devices.release(lease);
        busyWorktrees.delete(worktree);
        trialWork.delete(trial.id);
        claimed.delete(trial.id);
        wakeBaselineWaiters();
        wake.notify();
      }
    })();
    trialWork.set(trial.id, work);
  };

  /** Resume a decision an earlier session left measured, outside the serial loop: no slot, no device until a rerun needs one. */
  const startJudge = (trial: TrialRecord): void => {
    claimed.add(trial.id);
    const worktree = acquireWorktree(null);
    const work = (async () => {
      try {
        trialEnded(await executeTrial(opened, trial, depsFor(worktree, slots[0], trial, 'none')));
      } catch (error) {
        fatal ??= { error };
      } finally {
        busyWorktrees.delete(worktree);
        trialWork.delete(trial.id);
        claimed.delete(trial.id);
        wakeBaselineWaiters();
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

  /** Make a proposal in a free proposal worktree: for the next trial, or again for a stale speculative one (`revise`). */
  const startProposal = (revise?: TrialRecord): void => {
    const worktree = freeProposalWorktrees.shift()!;
    const trial = revise ?? policy.nextTrial(claimed, research.fidelity ? 'screen' : 'candidate');
    claimed.add(trial.id);
    const work = (async () => {
      try {
        await chaosPoint('proposing');
        const beside = speculate && slots.length === 1 ? [...trialWork.keys()] : [];
        const best = trials.best();
        const queued = revise && best ? await settleStaleSpeculation(opened, revise, best) : trial;
        const prepared = await prepareCandidate(opened, queued, depsFor(worktree), { keepWorktree: serial });
        if ('ready' in prepared) {
          ready.push(prepared.ready);
          const fresh = queued.candidateCommit === null && queued.role !== 'baseline';
          if (fresh) proposedHere = prepared.ready.id;
          if (fresh && speculate) {
            assumedBest.set(trial.id, best?.id ?? null);
            speculatedOn.set(trial.id, beside);
          }
          return;
        }
        claimed.delete(trial.id);
        trialEnded(prepared.finished);
      } catch (error) {
        claimed.delete(trial.id);
        trials.interrupt(trials.get(trial.id), 'orchestrator-error', `orchestrator error while proposing: ${errorMessage(error)}`);
        fatal ??= { error };
      } finally {
        proposing.delete(trial.id);
        freeProposalWorktrees.push(worktree);
        wake.notify();
      }
    })();
    proposing.set(trial.id, work);
  };

  /** Where the study stands, for the planner. */
  const snapshot = (): PlanSnapshot => {
    const all = trials.all();
    const drain = policy.drainCondition?.();
    const idleNow = trialWork.size + proposing.size + prefetching.size === 0;
    const decided = stop ?? (fatal ? { state: 'paused' as const, reason: `error: ${errorMessage(fatal.error)}` } : (policy.stopCondition() ?? (drain && idleNow ? drain : undefined)));
    const runnable: RunnableTrial[] = all
      // A repeat run (baseline repeat, rerun, incumbent check) belongs to the decision that queued it, which runs it; the
      // scheduler starting it too ran it twice at once (the second run's sandbox lost its cgroup to the first's cleanup).
      .filter((trial) => !claimed.has(trial.id) && !REPEAT_ROLES.includes(trial.role) && (awaitsDecision(trial) || (trial.status === 'queued' && (trial.candidateCommit !== null || trial.role === 'baseline'))))
      .map((trial) => ({ id: trial.id, baseline: trial.role === 'baseline', source: awaitsDecision(trial) ? 'judge' : 'queued' }));
    const baselines = all.filter((trial) => trial.role === 'baseline');
    const baseline: PlanSnapshot['baseline'] = baselines.some((trial) => trial.status === 'keep')
      ? 'settled'
      : baselines.some((trial) => trialWork.has(trial.id))
        ? 'running'
        : baselines.some((trial) => trial.status === 'queued' || awaitsDecision(trial) || ready.some((other) => other.id === trial.id) || proposing.has(trial.id))
          ? 'pending'
          : 'missing';
    const promotion = research.fidelity ? (nextPromotion(all, research.fidelity, research.metric.goal)?.id ?? null) : null;
    return {
      freeSlots: slots.filter((slot) => !devices.isHeld(slot) && !(serial && !isIdle(slot.worktree))).map((slot) => slot.name),
      runnable,
      ready: ready.map((trial) => ({
        id: trial.id,
        baseline: trial.role === 'baseline',
        ...(isStale(trial) ? { stale: true } : waitsForDecision(trial) ? { waiting: true } : {}),
      })),
      promotion,
      inFlight: trialWork.size,
      proposing: proposing.size,
      background: prefetching.size,
      freeProposalWorkers: signal.aborted ? 0 : freeProposalWorktrees.length,
      concurrentProposals: executorConfig.concurrentProposals,
      lookahead: executorConfig.lookahead,
      ...(speculate ? { speculate } : {}),
      ...(heldUntilResultsPass !== undefined && all.filter(isResult).length <= heldUntilResultsPass ? { aheadHeld: true } : {}),
      baseline,
      // Draining: a cap at what is running now holds back every new start and proposal.
      ...(drain ? { maxTrials: Math.min(research.maxTrials ?? Infinity, all.filter((trial) => policy.counts(trial)).length + trialWork.size) } : research.maxTrials !== undefined ? { maxTrials: research.maxTrials } : {}),
      counted: all.filter((trial) => policy.counts(trial)).length,
      // An unclaimed queued trial with no candidate yet (a veto's redo of a conflicted keep) is what the next proposal takes
      // up: counted here as well, it held that very proposal back at max_trials, and the redo was never proposed. Live
      // repeats are a decision's runs, not proposals: they hold no place under max_trials either.
      committed: all.filter(
        (trial) =>
          policy.counts(trial) ||
          (!REPEAT_ROLES.includes(trial.role) && (trial.status === 'running' || (trial.status === 'queued' && (claimed.has(trial.id) || trial.candidateCommit !== null || trial.role === 'baseline')))),
      ).length,
      ...(decided ? { stop: decided, deciding: all.filter((trial) => trialWork.has(trial.id) && awaitsDecision(trial)).length } : {}),
      serial,
    };
  };

  watchProgress(() => `scheduling study ${study.name} (${describeSnapshot(snapshot())}, ${trialWork.size} trials and ${proposing.size} proposals in flight)`);
  for (const trial of options.reattach ?? []) {
    const free = devices.free();
    const slot = free.find((candidate) => candidate.name === trial.slot) ?? free[0];
    if (!slot) break;
    startOnSlot(slot, trial, trial.worktree ?? slot.worktree);
  }

  try {
    for (;;) {
      const plan = planSchedule(snapshot());
      for (const start of plan.starts) {
        const slot = slots.find((candidate) => candidate.name === start.slot)!;
        const trial =
          start.kind === 'promote'
            ? promote(opened, trials.get(start.id))
            : start.kind === 'ready'
              ? ready.splice(ready.findIndex((candidate) => candidate.id === start.id), 1)[0]!
              : trials.get(start.id);
        startOnSlot(slot, trial);
        if (start.kind === 'promote') await chaosPoint('promoted');
      }
      for (const id of plan.judges) startJudge(trials.get(id));
      for (const id of plan.revisions ?? []) startProposal(ready.splice(ready.findIndex((candidate) => candidate.id === id), 1)[0]!);
      for (let index = 0; index < plan.proposals; index++) startProposal();
      if (plan.prefetch) prefetch();
      if (plan.next.kind === 'stop') {
        stop = plan.next.stop;
        // Done with a trial the ledger calls running that this session neither runs nor can start: never call that done.
        const strays = trials.all().filter((trial) => trial.status === 'running' && !claimed.has(trial.id));
        if (stop.state === 'done' && strays.length > 0) {
          stop = { state: 'paused', cause: 'error', reason: `internal error: trial ${strays.map((trial) => `#${trial.seq}`).join(', ')} ${strays.length === 1 ? 'is' : 'are'} running in the ledger but nothing follows ${strays.length === 1 ? 'it' : 'them'}; run again to resume (recovery settles ${strays.length === 1 ? 'it' : 'them'})` };
        }
        break;
      }
      if (trialWork.size + proposing.size + prefetching.size === 0) {
        // The planner promised never to wait with nothing in flight; a stuck state is named, never waited on.
        stop = { state: 'paused', reason: `internal error: the scheduler had nothing in flight and nothing to start (${describeSnapshot(snapshot())}); run again to resume` };
        break;
      }
      await wake.wait(policy.timeLeftMs());
    }
  } finally {
    stopWork.abort();
    watchProgress(() => `stopping study ${study.name}: waiting for ${trialWork.size} trials and ${proposing.size} proposals to end`);
    await Promise.all([...trialWork.values(), ...proposing.values(), ...prefetching]);
    for (const trial of ready.splice(0)) {
      const best = trials.best();
      // A stale speculation is settled as stale (no git beyond its ref): the next session proposes it again on the best.
      const settled = isStale(trial) && best ? await settleStaleSpeculation(opened, trial, best, { reapply: false }).catch((error: unknown) => ((fatal ??= { error }), trial)) : trial;
      trials.interrupt(settled, 'not-started', 'proposed ahead but not started before the study stopped');
    }
    // Re-runs queued by a decision (a rebase onto the moved best) wait for the next session, where recovery re-queues them.
    for (const trial of trials.all()) {
      if (trial.status === 'queued' && !claimed.has(trial.id)) trials.interrupt(trial, 'not-started', 'queued but not started before the study stopped');
    }
  }
  watchProgress(undefined);
  if (fatal) throw fatal.error;
  return stop;
}

function describeSnapshot(snapshot: PlanSnapshot): string {
  return `baseline ${snapshot.baseline}, ${snapshot.runnable.length} runnable, ${snapshot.ready.length} ready, ${snapshot.freeSlots.length} of the slots free, ${snapshot.freeProposalWorkers} proposal workers free`;
}

/** The study's decision lock, telling the scheduler each time a decision ends (a keep or a discard is in the ledger). */
class NotifyingDecisionLock extends DecisionLock {
  private readonly inner: DecisionLock;
  private readonly onRelease: () => void;

  constructor(inner: DecisionLock, onRelease: () => void) {
    super();
    this.inner = inner;
    this.onRelease = onRelease;
  }

  override async acquire(): Promise<() => void> {
    const release = await this.inner.acquire();
    return () => {
      release();
      this.onRelease();
    };
  }
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
