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
 * - releases the claim, whatever happened.
 */
import { errorMessage, StrataError } from '../core/errors.ts';
import type { StudyState, StudyStopCause } from '../core/trial.ts';
import type { Ledger } from '../ledger/ledger.ts';

/** How often the owner writes its heartbeat; STALE_OWNER_MS (ledger.ts) is six of these. */
export const HEARTBEAT_MS = 5000;

/** The states a session can end a study in. */
export type EndState = Exclude<StudyState, 'running'>;

export interface StudySessionOptions {
  /** The user's stop (Ctrl-C, SIGTERM); the session's own signal follows it. */
  signal?: AbortSignal;
  heartbeatMs?: number;
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

  private constructor(ledger: Ledger, studyId: number, options: StudySessionOptions) {
    this.ledger = ledger;
    this.studyId = studyId;
    this.userSignal = options.signal ?? new AbortController().signal;
    this.signal = AbortSignal.any([this.userSignal, this.controller.signal]);
    this.heartbeat = setInterval(() => this.beat(), options.heartbeatMs ?? HEARTBEAT_MS);
    this.heartbeat.unref();
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
    this.ended = { state, reason, cause };
    this.ledger.record('study.state_changed', { studyId: this.studyId, state, reason, cause }, { studyId: this.studyId });
  }

  /**
   * End the study after an unexpected error: paused, with the error as the
   * reason, so it resumes once the cause is fixed. A ledger that cannot be
   * written (a full disk) is left as it is: the next start recovers it.
   */
  endOnError(error: unknown): void {
    if (this.ended) return;
    const user = this.stoppedByUser;
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
