/**
 * The scheduler's decisions as a pure function of a snapshot: which trial
 * each free slot starts, how many proposals begin, whether to check out
 * candidates ahead, and when the session ends. The runner (scheduler.ts)
 * takes a snapshot, applies the plan, and waits for the next event; nothing
 * here touches processes, git or the ledger, so every state the scheduler
 * can be in is tested on its own (test/research/plan.test.ts).
 *
 * Speculation (`executor.speculate`, the default on one slot): while the
 * only slot runs a trial, the next proposal is made as if that trial will be
 * discarded — the common case — so the slot starts it the moment the trial
 * ends. A proposal whose assumption broke (a keep moved the best under it)
 * is `stale`: it never starts on the old best; the plan hands it back as a
 * revision (re-applied onto the new best, then revised by the proposer).
 *
 * The one promise the plan keeps: it never says "wait" when nothing is in
 * flight. Either something starts, something is still running, or the
 * session ends with a reason — a stuck state is named, never waited on.
 */

import type { StudyStopCause } from '../../core/trial.ts';

/** Why and how a session stops. */
export interface StopDecision {
  state: 'paused' | 'done' | 'failed';
  reason: string;
  cause?: StudyStopCause;
}

/** A trial the ledger holds that a slot could run, in the order they should start. */
export interface RunnableTrial {
  id: number;
  /** The baseline runs the unmodified code; everything else is judged against its result. */
  baseline: boolean;
  /**
   * `judge`: its run was measured by an earlier session that stopped before the decision (the decision resumes);
   * `queued`: queued with its candidate (a re-run after a stop, a rebased winner, a promotion);
   * `ready`: proposed ahead in this session.
   */
  source: 'judge' | 'queued' | 'ready';
}

/** Everything the plan depends on. */
export interface PlanSnapshot {
  /** Slots whose device is free to start a trial now (in the serial loop, whose worktree is idle too). */
  freeSlots: readonly string[];
  /** Ledger-held trials that may start, oldest first (queued re-runs, resumed decisions), excluding ones this session runs. */
  runnable: readonly RunnableTrial[];
  /**
   * Proposals prepared ahead in this session, oldest first (the baseline among them, when it was just made). `stale`: a
   * speculative proposal made on a best that a keep has since replaced; `waiting`: one whose running trial (on one slot)
   * has not been decided yet, so whether it is stale is not known (only with `speculate`).
   */
  ready: readonly { id: number; baseline: boolean; stale?: boolean; waiting?: boolean }[];
  /** A screened trial to promote to the full budget (research.fidelity), if one qualifies. */
  promotion: number | null;
  /** Trials this session runs or judges. */
  inFlight: number;
  /** Proposals being made. */
  proposing: number;
  /** Other work that ends with a wake-up (checkouts ahead of time). */
  background: number;
  /** Proposal workers (worktrees) not in use. */
  freeProposalWorkers: number;
  concurrentProposals: number;
  lookahead: number;
  /**
   * Speculative proposals: at least one proposal is made ahead while the slots run (as if the running trials will be
   * discarded), and a stale one is revised instead of started. Absent: off. Never together with `serial`.
   */
  speculate?: boolean;
  /**
   * Speculating, a proposal failed while a trial was in flight and no result came since: no proposal at all while one is
   * in flight (asked again with the same history, a proposer out of ideas fails again, and the streak paused the study
   * before the running trial's result could give it one).
   */
  aheadHeld?: boolean;
  /**
   * The baseline: `settled` once it has a result; `running` while this session runs or judges it; `pending` while it is
   * queued or being prepared; `missing` when no trial will produce one (the next proposal makes it).
   */
  baseline: 'settled' | 'running' | 'pending' | 'missing';
  /** max_trials, and how many trials count against it: finished ones, and finished + queued + running ones. */
  maxTrials?: number;
  counted: number;
  committed: number;
  /** A stop already decided (the user's signal, max_time, a failed baseline, a fatal error). */
  stop?: StopDecision;
  /**
   * In-flight trials whose run is measured (their decision is under way). A study that completes (max_trials, max_time)
   * waits for them instead of stopping them: nothing would ever resume a decision in a study that is done.
   */
  deciding?: number;
  /** Candidates on the first free device are checked out ahead only outside the serial loop. */
  serial: boolean;
}

export interface StartStep {
  slot: string;
  /** A ledger trial, a ready proposal, or the promotion of a screen. */
  kind: 'trial' | 'ready' | 'promote';
  id: number;
}

export interface Plan {
  starts: StartStep[];
  /**
   * Resumed decisions to start without a slot (outside the serial loop): a decision holds no device, its reruns wait for
   * one like any rerun — a decision holding a device while it waits for the decision lock could block the holder of the lock.
   */
  judges: number[];
  /** Proposals to begin now. */
  proposals: number;
  /**
   * Stale speculative proposals (ready ids) to revise now, before any new proposal: each takes a proposal worker,
   * re-applies its change onto the new best and asks the proposer again. Absent when there are none to revise.
   */
  revisions?: number[];
  /** Check out the next ready candidates in idle worktrees (every device busy). */
  prefetch: boolean;
  /** `wait` for the next event, or end the session. */
  next: { kind: 'wait' } | { kind: 'stop'; stop: StopDecision };
}

/**
 * Plan the next moves.
 *
 * @example
 * const plan = planSchedule(snapshot);
 * for (const start of plan.starts) startOn(start.slot, start);
 * if (plan.next.kind === 'stop') return plan.next.stop;
 */
export function planSchedule(snapshot: PlanSnapshot): Plan {
  const idle = snapshot.inFlight + snapshot.proposing + snapshot.background === 0;
  if (snapshot.stop) return finishDecisions(snapshot, snapshot.stop);

  const starts: StartStep[] = [];
  const runnable = [...snapshot.runnable];
  // A stale speculative proposal never starts: it was made for a best that is gone.
  const ready = snapshot.ready.filter((trial) => !(snapshot.speculate && (trial.stale || trial.waiting)));
  // Waiting ones count as ready ahead (no more proposals for them) but never start before the decision they wait for.
  const waiting = snapshot.speculate ? snapshot.ready.filter((trial) => trial.waiting && !trial.stale).length : 0;
  const stale = snapshot.speculate ? snapshot.ready.filter((trial) => trial.stale).map((trial) => trial.id) : [];
  let promotion = snapshot.promotion;
  let inFlight = snapshot.inFlight;
  const judges: number[] = [];
  if (!snapshot.serial) {
    for (const trial of runnable.filter((candidate) => candidate.source === 'judge')) {
      judges.push(trial.id);
      runnable.splice(runnable.indexOf(trial), 1);
      inFlight++;
    }
  }
  // Counted + in flight may not pass max_trials; a resumed decision finishes work already counted, so it is never held back.
  const underCap = () => snapshot.maxTrials === undefined || snapshot.counted + inFlight < snapshot.maxTrials;
  // A candidate is judged only against the baseline's result. It may run beside a baseline that runs, but never on the
  // last free device while the baseline waits for one: it would hold the device the baseline needs.
  const mayStartCandidate = (freeLeft: number) =>
    snapshot.baseline === 'settled' ||
    snapshot.baseline === 'running' ||
    baselineStarted(snapshot, starts) ||
    judges.some((id) => snapshot.runnable.find((trial) => trial.id === id)?.baseline === true) ||
    (snapshot.baseline === 'pending' && freeLeft > 1);

  for (const [index, slot] of snapshot.freeSlots.entries()) {
    const freeLeft = snapshot.freeSlots.length - index;
    const judge = runnable.findIndex((trial) => trial.source === 'judge' && (trial.baseline || mayStartCandidate(freeLeft)));
    if (judge >= 0) {
      starts.push({ slot, kind: 'trial', id: runnable.splice(judge, 1)[0]!.id });
      inFlight++;
      continue;
    }
    if (!underCap()) break;
    const queued = runnable.findIndex((trial) => trial.baseline || mayStartCandidate(freeLeft));
    if (queued >= 0) {
      starts.push({ slot, kind: 'trial', id: runnable.splice(queued, 1)[0]!.id });
      inFlight++;
      continue;
    }
    if (promotion !== null && mayStartCandidate(freeLeft)) {
      starts.push({ slot, kind: 'promote', id: promotion });
      promotion = null;
      inFlight++;
      continue;
    }
    const next = ready.findIndex((trial) => trial.baseline || mayStartCandidate(freeLeft));
    if (next < 0) break;
    starts.push({ slot, kind: 'ready', id: ready.splice(next, 1)[0]!.id });
    inFlight++;
  }

  // A proposal waiting for a decision has a free slot reserved: no other proposal is made for that slot meanwhile.
  const freeAfter = Math.max(0, snapshot.freeSlots.length - starts.length - waiting);
  let proposals = 0;
  let committed = snapshot.committed;
  const revisions: number[] = [];
  const proposing = () => snapshot.proposing + revisions.length + proposals;
  // Revisions first: their trials are counted already, and a slot may be waiting for them.
  for (const id of stale) {
    if (revisions.length >= snapshot.freeProposalWorkers || proposing() >= snapshot.concurrentProposals) break;
    revisions.push(id);
  }
  // Speculation keeps one proposal ahead of the slots even where lookahead is 0.
  const lookahead = snapshot.speculate ? Math.max(1, snapshot.lookahead) : snapshot.lookahead;
  const held = snapshot.aheadHeld === true && inFlight > 0;
  while (
    !held &&
    revisions.length + proposals < snapshot.freeProposalWorkers &&
    proposing() < snapshot.concurrentProposals &&
    ready.length + waiting + proposing() < freeAfter + lookahead &&
    (snapshot.maxTrials === undefined || committed < snapshot.maxTrials)
  ) {
    proposals++;
    committed++;
  }
  // The baseline is made by the first proposal; a missing one with no proposal possible is a stuck state, named below.
  const prefetch = !snapshot.serial && freeAfter === 0 && ready.length + waiting > 0;

  const revising = revisions.length > 0 ? { revisions } : {};
  const nothingLeft = idle && starts.length === 0 && judges.length === 0 && proposals === 0 && revisions.length === 0;
  if (nothingLeft) return { starts, judges, proposals, ...revising, prefetch: false, next: { kind: 'stop', stop: idleStop(snapshot) } };
  return { starts, judges, proposals, ...revising, prefetch, next: { kind: 'wait' } };
}

/**
 * After a stop: nothing new starts. A study that completes first finishes the decisions already measured — those in
 * flight, and those an earlier session left (started now, on a free slot in the serial loop) — since a done study is
 * never resumed; any other stop ends at once (the next session resumes the decisions).
 */
function finishDecisions(snapshot: PlanSnapshot, stop: StopDecision): Plan {
  const ended: Plan = { starts: [], judges: [], proposals: 0, prefetch: false, next: { kind: 'stop', stop } };
  if (stop.cause !== 'complete') return ended;
  // A candidate's decision needs the baseline's result: it is finished only where that exists or is being decided.
  const judgeable = (trial: RunnableTrial) => trial.baseline || snapshot.baseline === 'settled' || snapshot.baseline === 'running';
  const left = snapshot.runnable.filter((trial) => trial.source === 'judge' && judgeable(trial)).sort((a, b) => Number(b.baseline) - Number(a.baseline)).map((trial) => trial.id);
  const waiting: Plan = { starts: [], judges: [], proposals: 0, prefetch: false, next: { kind: 'wait' } };
  if (left.length === 0) return (snapshot.deciding ?? 0) > 0 ? waiting : ended;
  if (!snapshot.serial) return { ...waiting, judges: left };
  const slot = snapshot.freeSlots[0];
  if (slot !== undefined) return { ...waiting, starts: [{ slot, kind: 'trial', id: left[0]! }] };
  return snapshot.inFlight > 0 ? waiting : ended;
}

/** Has a baseline trial been started by this plan? Candidates may then share the other devices. */
function baselineStarted(snapshot: PlanSnapshot, starts: readonly StartStep[]): boolean {
  return starts.some(
    (start) =>
      (start.kind === 'trial' && snapshot.runnable.find((trial) => trial.id === start.id)?.baseline === true) ||
      (start.kind === 'ready' && snapshot.ready.find((trial) => trial.id === start.id)?.baseline === true),
  );
}

/** Why a session with nothing in flight and nothing to start ends. */
function idleStop(snapshot: PlanSnapshot): StopDecision {
  if (snapshot.maxTrials !== undefined && snapshot.counted >= snapshot.maxTrials) return { state: 'done', cause: 'complete', reason: `max_trials reached (${snapshot.maxTrials})` };
  if (snapshot.baseline === 'missing' && snapshot.freeProposalWorkers === 0) {
    return { state: 'paused', cause: 'error', reason: 'internal error: no baseline result and no proposal worker to make one; run again to resume' };
  }
  if (snapshot.freeSlots.length === 0) {
    return { state: 'paused', cause: 'error', reason: 'internal error: every slot is held but nothing runs; run again to resume' };
  }
  return { state: 'done', cause: 'complete', reason: 'nothing left to run' };
}
