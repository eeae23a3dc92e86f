/**
 * One study session: the life of one orchestrator process on one study,
 * the same for research, evolve and pipelines. It
 * - claims the study (refusing while another live orchestrator holds it),
 * - marks it running and keeps a heartbeat, so another host sharing the
 *   ledger sees the owner is alive,
 * - carries the stop signal (the user's Ctrl-C or SIGTERM, or a stop asked
 *   for from inside the loop),
 * - ends it exactly once: done, paused or failed with a reason, and on an
 *   unexpected error paused with the error, so fixing the cause and running
 *   again resumes it,
 * - takes up control requests another process wrote to the ledger
 *   (`strata pause [--now]`, `resume`, `stop`, `veto`, or the dashboard),
 *   polled beside the heartbeat: `pause --now` and `stop` abort the signal
 *   and set how the study ends; a plain `pause` is asked of the loop, which
 *   finishes its running trial first (loops that cannot pause gracefully
 *   stop at once),
 * - releases the claim, whatever happened.
 */
import { errorMessage, StrataError } from '../core/errors.ts';
import type { StudyState, StudyStopCause } from '../core/trial.ts';
import type { LedgerEvents } from '../ledger/events.ts';
import type { Ledger } from '../ledger/ledger.ts';

/** How often the owner writes its heartbeat; STALE_OWNER_MS (ledger.ts) is six of these. */
export const HEARTBEAT_MS = 5000;

/** The states a session can end a study in. */
export type EndState = Exclude<StudyState, 'running'>;

export interface StudySessionOptions {
  /** The user's stop (Ctrl-C, SIGTERM); the session's own signal follows it. */
  signal?: AbortSignal;
  heartbeatMs?: number;
  /** How often control requests are looked for (default 1 s: `strata pause` should feel immediate). */
  controlPollMs?: number;
}

/** How often the owner looks for control requests by default. */
export const CONTROL_POLL_MS = 1000;

/** A control request as the session hands it to the loop. */
export type ControlRequest = LedgerEvents['oversight.control_requested'] & { id: number };

/** How a study asked to end from outside (pause --now, stop) ends once its loop has stopped. */
export interface RequestedEnd {
  state: EndState;
  reason: string;
  cause: StudyStopCause;
}

/** What the loop does with requests it handles itself: a graceful pause, a veto. Returns the outcome in words. */
export interface ControlHandlers {
  /** Finish the running trial, then pause with `end`. Absent: a plain pause stops at once, like `pause --now`. */
  pause?: (end: RequestedEnd) => string;
  /** A pending graceful pause was withdrawn (`strata resume` before it took effect). */
  cancelPause?: () => string;
  veto?: (request: ControlRequest) => Promise<string>;
}

/**
 * @example
 * const session = StudySession.start(ledger, study.id, { signal });
 * try {
 *   const stop = await runLoop(session.signal);
 *   session.end(stop.state, stop.reason, stop.cause);
 * } catch (error) {
 *   session.endOnError(error);
 *   throw error;
 * } finally {
 *   session.close();
 * }
 */
export class StudySession {
  readonly ledger: Ledger;
  readonly studyId: number;
  /** Aborts when the user stops the study or the loop asks to stop (`stop`). */
  readonly signal: AbortSignal;
  private readonly controller = new AbortController();
  private readonly heartbeat: NodeJS.Timeout;
  private ended: { state: EndState; reason: string; cause: StudyStopCause } | undefined;
  private closed = false;
  private readonly userSignal: AbortSignal;
  private readonly controlPoll: NodeJS.Timeout;
  /** Control requests after this event id are new to this session (older ones were meant for an earlier one). */
  private controlCursor: number;
  private handlers: ControlHandlers = {};
  private requestedEnd: RequestedEnd | undefined;
  private readonly endListeners: ((state: EndState, reason: string, cause: StudyStopCause) => void)[] = [];
  /** Requests being handled (a veto runs git): awaited before the session closes. */
  private readonly handling = new Set<Promise<void>>();

  private constructor(ledger: Ledger, studyId: number, options: StudySessionOptions) {
    this.ledger = ledger;
    this.studyId = studyId;
    this.userSignal = options.signal ?? new AbortController().signal;
    this.signal = AbortSignal.any([this.userSignal, this.controller.signal]);
    this.heartbeat = setInterval(() => this.beat(), options.heartbeatMs ?? HEARTBEAT_MS);
    this.heartbeat.unref();
    this.controlCursor = ledger.oversight.lastEventId();
    this.controlPoll = setInterval(() => this.pollControl(), options.controlPollMs ?? CONTROL_POLL_MS);
    this.controlPoll.unref();
  }

  /** Let the loop handle graceful pauses and vetoes (see ControlHandlers). */
  handleControl(handlers: ControlHandlers): void {
    this.handlers = handlers;
  }

  /** Be told when the study ends (notifications); a listener that throws is ignored. */
  onEnd(listener: (state: EndState, reason: string, cause: StudyStopCause) => void): void {
    this.endListeners.push(listener);
  }

  /** The ending a control request asked for (pause --now, stop), if one did. */
  get requested(): RequestedEnd | undefined {
    return this.requestedEnd;
  }

  /** Look for control requests now (the timer does this every CONTROL_POLL_MS). */
  pollControl(): void {
    let requests;
    try {
      requests = this.ledger.oversight.records(this.studyId, 'oversight.control_requested', this.controlCursor);
    } catch {
      return; // a busy or closed ledger: the next poll looks again
    }
    for (const record of requests) {
      this.controlCursor = record.id;
      const request: ControlRequest = { ...record.payload, id: record.id };
      const work = this.apply(request)
        .then((outcome) => this.acknowledge(request, outcome))
        .catch((error: unknown) => this.acknowledge(request, `failed: ${errorMessage(error)}`))
        .finally(() => this.handling.delete(work));
      this.handling.add(work);
    }
  }

  /** Wait for control requests being handled (a veto) to finish. */
  async settleControl(): Promise<void> {
    await Promise.all([...this.handling]);
  }

  private async apply(request: ControlRequest): Promise<string> {
    const by = `${request.author} from the ${request.source}`;
    const why = request.reason ? `: ${request.reason}` : '';
    switch (request.action) {
      case 'pause':
      case 'pause-now': {
        const end: RequestedEnd = { state: 'paused', cause: 'oversight', reason: `paused by ${by}${why}; resume with strata resume` };
        if (request.action === 'pause' && this.handlers.pause) return this.handlers.pause(end);
        this.requestedEnd ??= end;
        this.abort();
        return 'stopping now; the running trial is interrupted and queued again';
      }
      case 'stop':
        this.requestedEnd = { state: 'done', cause: 'oversight', reason: `stopped by ${by}${why}` };
        this.abort();
        return 'stopping now; the study ends';
      case 'resume':
        return this.handlers.cancelPause?.() ?? 'already running';
      case 'veto':
        if (!this.handlers.veto) return 'this study has no kept changes to veto';
        return this.handlers.veto(request);
    }
  }

  private acknowledge(request: ControlRequest, outcome: string): void {
    try {
      this.ledger.record('oversight.control_applied', { studyId: this.studyId, requestId: request.id, action: request.action, outcome }, { studyId: this.studyId });
    } catch {
      // A ledger that cannot be written: the requester's wait times out and says so.
    }
  }

  /**
   * Claim the study for this process and mark it running. Throws
   * StudyStateError when another live orchestrator holds it.
   */
  static start(ledger: Ledger, studyId: number, options: StudySessionOptions = {}): StudySession {
    ledger.claim(studyId);
    try {
      if (ledger.study(studyId).state !== 'running') ledger.record('study.state_changed', { studyId, state: 'running', reason: null }, { studyId });
    } catch (error) {
      ledger.release(studyId);
      throw error;
    }
    return new StudySession(ledger, studyId, options);
  }

  /** Did the user stop the study (as opposed to the loop ending it)? */
  get stoppedByUser(): boolean {
    return this.userSignal.aborted;
  }

  /** How the session ended, once it has. */
  get outcome(): { state: EndState; reason: string; cause: StudyStopCause } | undefined {
    return this.ended;
  }

  /** Abort the session's signal: in-flight work stops as on Ctrl-C. */
  abort(): void {
    this.controller.abort();
  }

  /** End the study in `state`; later calls are ignored (the first ending is the true one). */
  end(state: EndState, reason: string, cause: StudyStopCause): void {
    if (this.ended) return;
    // The loop sees an aborted signal as the user's stop; a control request says who asked and how the study ends.
    if (this.requestedEnd && cause === 'user' && !this.userSignal.aborted) ({ state, reason, cause } = this.requestedEnd);
    this.ended = { state, reason, cause };
    this.ledger.record('study.state_changed', { studyId: this.studyId, state, reason, cause }, { studyId: this.studyId });
    for (const listener of this.endListeners) {
      try {
        listener(state, reason, cause);
      } catch {
        // A listener (a notifier) must never change how the study ends.
      }
    }
  }

  /**
   * End the study after an unexpected error: paused, with the error as the
   * reason, so it resumes once the cause is fixed. A ledger that cannot be
   * written (a full disk) is left as it is: the next start recovers it.
   */
  endOnError(error: unknown): void {
    if (this.ended) return;
    const user = this.stoppedByUser || (this.requestedEnd !== undefined && this.signal.aborted);
    const reason = user ? 'stopped by the user; run again to resume' : `error: ${errorMessage(error)}`.slice(0, 1000);
    const cause: StudyStopCause = user ? 'user' : error instanceof StrataError && error.code === 'branch_moved' ? 'branch-moved' : 'error';
    try {
      this.end('paused', reason, cause);
    } catch {
      // The ledger itself failed (disk full, file removed): the original error is what the user must see, and recovery
      // at the next start finds the study running with no live owner.
      this.ended = { state: 'paused', reason, cause };
    }
  }

  /** Stop the heartbeat and release the claim; safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    clearInterval(this.controlPoll);
    try {
      this.ledger.release(this.studyId);
    } catch {
      // A ledger that cannot be written cannot be released either; a dead owner's claim expires by itself.
    }
  }

  private beat(): void {
    try {
      this.ledger.heartbeat(this.studyId);
    } catch {
      // A missed heartbeat (a busy or full ledger) only makes the claim look older; the next one may succeed.
    }
  }
}
