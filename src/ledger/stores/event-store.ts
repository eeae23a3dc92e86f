import type { DatabaseSync } from 'node:sqlite';
import type { LedgerEvents, LedgerEventType } from '../events.ts';
import { prepared } from '../prepared.ts';

/**
 * Payloads of one event type, for facts that live in the event log alone
 * (an evolve snapshot, a reflection reply, the acceptance rule).
 */
export class EventStore {
  private readonly db: DatabaseSync;

  constructor(db: DatabaseSync) {
    this.db = db;
  }

  /** Payloads of `type` for a study, oldest first (or newest first, at most `limit`). */
  payloads<T extends LedgerEventType>(studyId: number, type: T, options: { newestFirst?: boolean; limit?: number } = {}): LedgerEvents[T][] {
    const order = options.newestFirst ? 'DESC' : 'ASC';
    const rows =
      options.limit === undefined
        ? prepared(this.db, `SELECT payload_json FROM events WHERE study_id = ? AND type = ? ORDER BY id ${order}`).all(studyId, type)
        : prepared(this.db, `SELECT payload_json FROM events WHERE study_id = ? AND type = ? ORDER BY id ${order} LIMIT ?`).all(studyId, type, options.limit);
    return rows.map((row) => JSON.parse(String(row.payload_json)) as LedgerEvents[T]);
  }

  /**
   * Events of the given types for a study, oldest first, for loop-specific
   * details (evolve iterations on the dashboard). `omit` drops large payload
   * fields (an engine snapshot) in SQL, before they are parsed.
   */
  ofTypes(studyId: number, types: readonly string[], omit: readonly string[] = []): { id: number; type: string; trialId: number | null; payload: unknown; createdAt: string }[] {
    if (types.length === 0) return [];
    const payload = omit.length ? `json_remove(payload_json, ${omit.map(() => '?').join(', ')})` : 'payload_json';
    const rows = prepared(
      this.db,
      `SELECT id, type, trial_id, ${payload} AS payload_json, created_at FROM events WHERE study_id = ? AND type IN (${types.map(() => '?').join(', ')}) ORDER BY id`,
    ).all(...omit.map((field) => `$.${field}`), studyId, ...types);
    return rows.map((row) => ({
      id: Number(row.id),
      type: String(row.type),
      trialId: row.trial_id === null ? null : Number(row.trial_id),
      payload: JSON.parse(String(row.payload_json)) as unknown,
      createdAt: String(row.created_at),
    }));
  }

  /**
   * The newest event id, and which trials of `studyId` events after `afterId` name (the `trial_id` column and a
   * payload's `trialId`); `everything` when one of them may change trial rows it does not name (a veto moves its
   * followers). For caches that re-read only what changed.
   */
  trialChangesSince(studyId: number, afterId: number): { lastId: number; trialIds: Set<number>; everything: boolean } {
    const last = (prepared(this.db, 'SELECT COALESCE(MAX(id), 0) AS id FROM events').get() as { id: number }).id;
    const trialIds = new Set<number>();
    let everything = false;
    if (last > afterId) {
      for (const row of prepared(this.db, 'SELECT type, trial_id, payload_json FROM events WHERE id > ? AND study_id = ?').all(afterId, studyId)) {
        if (row.trial_id !== null) trialIds.add(Number(row.trial_id));
        if (String(row.type) === 'trial.vetoed') everything = true;
        const payload = JSON.parse(String(row.payload_json)) as { trialId?: unknown };
        if (typeof payload.trialId === 'number') trialIds.add(payload.trialId);
      }
    }
    return { lastId: last, trialIds, everything };
  }

  /** Changes whenever another connection commits (SQLite's data_version) or an event is added: a cheap "anything new?" check. */
  changeToken(): string {
    const data = prepared(this.db, 'PRAGMA data_version').get() as { data_version: number };
    const last = prepared(this.db, 'SELECT COALESCE(MAX(id), 0) AS id FROM events').get() as { id: number };
    return `${data.data_version}:${last.id}`;
  }

  /**
   * What the duty cycle reads of a study's event log, without parsing the
   * rest of it: the session starts and state changes, and before each
   * session start (and at the end) a mark carrying the time of the last
   * event before it, which is when a session that was killed (no state
   * change ended it) last showed life. Fed to schedulingSummary, these give
   * what the whole log gives.
   */
  sessionMarks(studyId: number): { type: string; payload: unknown; createdAt: string }[] {
    const rows = prepared(
      this.db,
      "SELECT id, type, payload_json, created_at FROM events WHERE study_id = ? AND type IN ('study.session_started', 'study.state_changed') ORDER BY id",
    ).all(studyId);
    const lastBefore = (id: number | null) =>
      (id === null
        ? prepared(this.db, 'SELECT created_at FROM events WHERE study_id = ? ORDER BY id DESC LIMIT 1').get(studyId)
        : prepared(this.db, 'SELECT created_at FROM events WHERE study_id = ? AND id < ? ORDER BY id DESC LIMIT 1').get(studyId, id)) as { created_at: string } | undefined;
    const marks: { type: string; payload: unknown; createdAt: string }[] = [];
    const mark = (id: number | null) => {
      const last = lastBefore(id);
      if (last) marks.push({ type: 'mark', payload: null, createdAt: String(last.created_at) });
    };
    for (const row of rows) {
      if (row.type === 'study.session_started') mark(Number(row.id));
      marks.push({ type: String(row.type), payload: JSON.parse(String(row.payload_json)) as unknown, createdAt: String(row.created_at) });
    }
    mark(null);
    return marks;
  }

  /** The newest payload of `type` for a study, if any. */
  last<T extends LedgerEventType>(studyId: number, type: T): LedgerEvents[T] | undefined {
    return this.payloads(studyId, type, { newestFirst: true, limit: 1 })[0];
  }
}
