import { hostname } from 'node:os';
import type { DatabaseSync } from 'node:sqlite';
import { LedgerError, StudyStateError } from '../core/errors.ts';
import { openDatabase } from './database.ts';
import type { LedgerEvents, LedgerEventType, StoredEvent } from './events.ts';
import { project } from './projections.ts';
import { toStudy, toTrial, type StudyRecord, type TrialRecord } from './records.ts';
import { prepared } from './prepared.ts';

/** A heartbeat older than this means the orchestrator that owned a study is gone. */
export const STALE_OWNER_MS = 30_000;

/**
 * The ledger: one SQLite file per repository holding every study. State
 * changes go through `record`, which appends the event and applies its
 * projection in one transaction.
 *
 * @example
 * const ledger = Ledger.open('.strata/ledger.db');
 * const study = ledger.studyByName('tiny-lm');
 */
export class Ledger {
  readonly db: DatabaseSync;
  readonly path: string;
  private depth = 0;

  private constructor(db: DatabaseSync, path: string) {
    this.db = db;
    this.path = path;
  }

  static open(path: string): Ledger {
    return new Ledger(openDatabase(path), path);
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }

  /** Run `fn` in one write transaction (nested calls join the outer one). */
  transaction<T>(fn: () => T): T {
    if (this.depth > 0) {
      this.depth++;
      try {
        return fn();
      } finally {
        this.depth--;
      }
    }
    this.db.exec('BEGIN IMMEDIATE');
    this.depth = 1;
    try {
      const result = fn();
      this.db.exec('COMMIT');
      return result;
    } catch (error) {
      this.db.exec('ROLLBACK');
      throw error;
    } finally {
      this.depth = 0;
    }
  }

  /** Append an event and apply it to the state tables, atomically. */
  record<T extends LedgerEventType>(type: T, payload: LedgerEvents[T], refs: { studyId?: number | null; trialId?: number | null } = {}): void {
    const at = new Date().toISOString();
    this.transaction(() => {
      // Projection first, so the event's references to the study and trial are satisfied.
      project(this.db, type, payload, at);
      prepared(this.db, 'INSERT INTO events (study_id, trial_id, type, payload_json, created_at) VALUES (?, ?, ?, ?, ?)')
        .run(refs.studyId ?? null, refs.trialId ?? null, type, JSON.stringify(payload), at);
    });
  }

  /** The next free id of a table (call inside a transaction). */
  nextId(table: 'studies' | 'trials' | 'candidates' | 'evaluations' | 'llm_calls'): number {
    const row = prepared(this.db, `SELECT COALESCE(MAX(id), 0) + 1 AS next FROM ${table}`).get() as { next: number };
    return Number(row.next);
  }

  studyByName(name: string): StudyRecord | undefined {
    const row = prepared(this.db, 'SELECT * FROM studies WHERE name = ?').get(name);
    return row ? toStudy(row) : undefined;
  }

  study(id: number): StudyRecord {
    const row = prepared(this.db, 'SELECT * FROM studies WHERE id = ?').get(id);
    if (!row) throw new LedgerError(`no study with id ${id} in ${this.path}`);
    return toStudy(row);
  }

  studies(): StudyRecord[] {
    return prepared(this.db, 'SELECT * FROM studies ORDER BY id').all().map(toStudy);
  }

  trials(studyId: number): TrialRecord[] {
    return prepared(this.db, 'SELECT * FROM trials WHERE study_id = ? ORDER BY seq').all(studyId).map(toTrial);
  }

  trial(id: number): TrialRecord {
    const row = prepared(this.db, 'SELECT * FROM trials WHERE id = ?').get(id);
    if (!row) throw new LedgerError(`no trial with id ${id} in ${this.path}`);
    return toTrial(row);
  }

  nextTrialSeq(studyId: number): number {
    const row = prepared(this.db, 'SELECT COALESCE(MAX(seq) + 1, 0) AS next FROM trials WHERE study_id = ?').get(studyId) as { next: number };
    return Number(row.next);
  }

  events(studyId?: number): StoredEvent[] {
    const rows =
      studyId === undefined
        ? prepared(this.db, 'SELECT * FROM events ORDER BY id').all()
        : prepared(this.db, 'SELECT * FROM events WHERE study_id = ? ORDER BY id').all(studyId);
    return rows.map((row) => ({
      id: Number(row.id),
      studyId: row.study_id === null ? null : Number(row.study_id),
      trialId: row.trial_id === null ? null : Number(row.trial_id),
      type: row.type as LedgerEventType,
      payload: JSON.parse(String(row.payload_json)) as LedgerEvents[LedgerEventType],
      createdAt: String(row.created_at),
    }));
  }

  /**
   * Take ownership of a study for this process. Refuses when another live
   * orchestrator on this host holds it, or one elsewhere has a fresh heartbeat.
   */
  claim(studyId: number, pid = process.pid): void {
    const host = hostname();
    this.transaction(() => {
      const study = this.study(studyId);
      if (study.ownerPid !== null && study.ownerPid !== pid) {
        const sameHost = study.ownerHost === host;
        const fresh = study.heartbeatAt !== null && Date.now() - Date.parse(study.heartbeatAt) < STALE_OWNER_MS;
        if ((sameHost && isAlive(study.ownerPid)) || (!sameHost && fresh)) {
          throw new StudyStateError(
            `study "${study.name}" is being run by process ${study.ownerPid} on ${study.ownerHost}; stop it first (Ctrl-C), or wait for it to finish`,
            { study: study.name, pid: study.ownerPid, host: study.ownerHost },
          );
        }
      }
      prepared(this.db, 'UPDATE studies SET owner_pid = ?, owner_host = ?, heartbeat_at = ? WHERE id = ?')
        .run(pid, host, new Date().toISOString(), studyId);
    });
  }

  heartbeat(studyId: number): void {
    prepared(this.db, 'UPDATE studies SET heartbeat_at = ? WHERE id = ?').run(new Date().toISOString(), studyId);
  }

  release(studyId: number): void {
    prepared(this.db, 'UPDATE studies SET owner_pid = NULL, owner_host = NULL WHERE id = ? AND owner_pid = ?').run(studyId, process.pid);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
