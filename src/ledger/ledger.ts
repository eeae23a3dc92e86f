import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { DatabaseSync } from 'node:sqlite';
import { LedgerError, StudyStateError } from '../core/errors.ts';
import { openDatabase } from './database.ts';
import { boundedPayload, type LedgerEvents, type LedgerEventType, type StoredEvent } from './events.ts';
import { project } from './projections.ts';
import { beforeEachStatement, databasePath, prepared } from './prepared.ts';
import { toStudy, toTrial, type StudyRecord, type TrialRecord } from './records.ts';
import { ledgerFault } from './sqlite-faults.ts';
import { EventStore } from './stores/event-store.ts';
import { EvolveStore } from './stores/evolve-store.ts';
import { LlmStore } from './stores/llm-store.ts';
import { OversightStore } from './stores/oversight-store.ts';
import { ResearchStore } from './stores/research-store.ts';
import { TrialQueryStore } from './stores/trial-query-store.ts';

/** A heartbeat older than this means the orchestrator that owned a study is gone. */
export const STALE_OWNER_MS = 30_000;

/** How to open a ledger. */
export interface LedgerOpenOptions {
  /**
   * Read an existing ledger without writing to it (status, the dashboard, a
   * read-only repository): nothing is created or migrated, and any write
   * fails with a LedgerError (code `ledger_read_only`). A ledger that needs a
   * migration cannot be opened so; the error (code `ledger_migration_needed`) says how to migrate it.
   */
  readOnly?: boolean;
}

let databaseOfLedger: (ledger: Ledger) => DatabaseSync;

/**
 * The ledger: one SQLite file per repository holding every study. State
 * changes go through `record`, which appends the event and applies its
 * projection in one transaction; reads go through the typed methods here
 * and the stores (`research`, `evolve`, `llm`, `eventLog`). No SQL lives
 * outside src/ledger/.
 *
 * @example
 * const ledger = Ledger.open('.strata/ledger.db');
 * const study = ledger.studyByName('tiny-lm');
 * const spent = study ? ledger.llm.spentUsd(study.id) : 0;
 */
export class Ledger {
  private readonly db: DatabaseSync;
  readonly path: string;
  readonly readOnly: boolean;
  /** Payloads of event types that live in the event log alone. */
  readonly eventLog: EventStore;
  /** The acceptance rule a study runs under; sealed holdout results. */
  readonly research: ResearchStore;
  /** The evolve pool, per-example scores, metric calls, recorded replies and snapshots. */
  readonly evolve: EvolveStore;
  /** Model calls and what they cost. */
  readonly llm: LlmStore;
  /** Notes, control requests, vetoes, pause conditions and notification deliveries. */
  readonly oversight: OversightStore;
  /** Counts, sums, pages and chart columns of a study's trials, for views of studies too long to read whole. */
  readonly trialQueries: TrialQueryStore;
  private depth = 0;
  /** Writes queued by `defer`, committed first by the next transaction (or at the end of this turn of the event loop). */
  private deferred: (() => void)[] = [];
  private deferredFlush: NodeJS.Immediate | null = null;

  static {
    // Whoever reads the connection itself (the check, a rebuild, migrations tests) reads the deferred writes too.
    databaseOfLedger = (ledger) => {
      ledger.flushDeferred();
      return ledger.db;
    };
  }

  private constructor(db: DatabaseSync, path: string, readOnly: boolean) {
    this.db = db;
    this.path = path;
    this.readOnly = readOnly;
    // Reads (and writes) of this connection see what `defer` queued: it is committed first.
    beforeEachStatement(db, () => {
      if (this.deferred.length > 0 && this.depth === 0) this.flushDeferred();
    });
    this.eventLog = new EventStore(db);
    this.research = new ResearchStore(db, this.eventLog);
    this.evolve = new EvolveStore(db, this.eventLog);
    this.llm = new LlmStore(db);
    this.oversight = new OversightStore(db, this.eventLog);
    this.trialQueries = new TrialQueryStore(db);
  }

  /**
   * Open the ledger at `path`, creating and migrating it as needed, or (with
   * `readOnly`) open an existing one for reading only.
   */
  static open(path: string, options: LedgerOpenOptions = {}): Ledger {
    return new Ledger(openDatabase(path, { readOnly: options.readOnly ?? false }), path, options.readOnly ?? false);
  }

  /**
   * Open an existing ledger for reading (status, the dashboard, reports): read-only
   * when its schema is current, so a read-only repository works. One that needs a
   * migration is migrated first where it can be written; where it cannot, the
   * error (code `ledger_migration_needed`) says so and what to do.
   */
  static openForReading(path: string): Ledger {
    try {
      return Ledger.open(path, { readOnly: true });
    } catch (error) {
      if (!(error instanceof LedgerError) || error.code !== 'ledger_migration_needed') throw error;
      try {
        Ledger.open(path).close();
      } catch (migrateError) {
        if (migrateError instanceof LedgerError && migrateError.code === 'ledger_read_only') throw new LedgerError(error.message, { cause: migrateError, details: error.details, code: error.code });
        throw migrateError;
      }
      return Ledger.open(path, { readOnly: true });
    }
  }

  /** Whether the connection is still open (false after `close`). */
  get isOpen(): boolean {
    return this.db.isOpen;
  }

  close(): void {
    if (!this.db.isOpen) return;
    if (this.deferredFlush) clearImmediate(this.deferredFlush);
    this.deferredFlush = null;
    try {
      this.flushDeferred();
    } finally {
      this.db.close();
    }
  }

  /**
   * Queue a write (one or more `record` calls) that need not be durable
   * before the caller goes on — a model call's end, an evaluation's score —
   * so that many share one commit: it is committed at the start of the next
   * transaction of this connection, or at the end of this turn of the event
   * loop, whichever comes first. Queued writes run in the order they were
   * queued and before anything written after them, so the event log reads
   * as if each had been written at once; a kill before the commit loses
   * them as it would lose a write made a moment later. Any statement of this
   * connection (a read too) commits them first, so it reads its own writes;
   * other connections see them at that commit (`flushDeferred` commits now).
   *
   * @example
   * ledger.defer(() => ledger.record('llm.call_finished', { callId, ...end }, { studyId }));
   */
  defer(write: () => void): void {
    // Inside a transaction it is part of that one commit already.
    if (this.depth > 0) {
      write();
      return;
    }
    this.deferred.push(write);
    this.deferredFlush ??= setImmediate(() => {
      this.deferredFlush = null;
      if (!this.db.isOpen || this.depth > 0) return;
      try {
        this.flushDeferred();
      } catch {
        // Not lost: a failed commit leaves the writes queued, and the next transaction (or close) tries them again and throws to its caller.
      }
    });
  }

  /** Commit the writes `defer` queued, now. */
  flushDeferred(): void {
    if (this.deferred.length > 0 && this.depth === 0) this.transaction(() => undefined);
  }

  /** Inside `transaction` (what it reads may still be rolled back). */
  get inTransaction(): boolean {
    return this.depth > 0;
  }

  /**
   * Run `fn` in one write transaction (nested calls join the outer one). If
   * anything fails the transaction is rolled back and the original error is
   * thrown: a fault SQLite already rolled back for (a full disk) must not
   * turn into "cannot rollback - no transaction is active".
   */
  transaction<T>(fn: () => T): T {
    if (this.depth > 0) {
      this.depth++;
      try {
        return fn();
      } finally {
        this.depth--;
      }
    }
    this.write('BEGIN IMMEDIATE');
    this.depth = 1;
    const queued = this.deferred;
    this.deferred = [];
    try {
      for (const write of queued) write();
      const result = fn();
      this.write('COMMIT');
      return result;
    } catch (error) {
      // Rolled back with the rest: queued again, ahead of anything queued meanwhile.
      this.deferred = [...queued, ...this.deferred];
      throw this.rollback(error);
    } finally {
      this.depth = 0;
    }
  }

  /**
   * Append an event and apply it to the state tables, atomically. Its texts
   * are bounded first (bounded-text.ts); returns the payload as stored.
   */
  record<T extends LedgerEventType>(type: T, payload: LedgerEvents[T], refs: { studyId?: number | null; trialId?: number | null } = {}): LedgerEvents[T] {
    const at = new Date().toISOString();
    const stored = boundedPayload(type, payload);
    this.transaction(() => {
      // Projection first, so the event's references to the study and trial are satisfied.
      project(this.db, type, stored, at);
      prepared(this.db, 'INSERT INTO events (study_id, trial_id, type, payload_json, created_at) VALUES (?, ?, ?, ?, ?)').run(
        refs.studyId ?? null,
        refs.trialId ?? null,
        type,
        JSON.stringify(stored),
        at,
      );
    });
    return stored;
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

  /** The trial with this id, or undefined when there is none. */
  trialOrUndefined(id: number): TrialRecord | undefined {
    const row = prepared(this.db, 'SELECT * FROM trials WHERE id = ?').get(id);
    return row ? toTrial(row) : undefined;
  }

  trial(id: number): TrialRecord {
    const row = prepared(this.db, 'SELECT * FROM trials WHERE id = ?').get(id);
    if (!row) throw new LedgerError(`no trial with id ${id} in ${this.path}`);
    return toTrial(row);
  }

  /** A trial by its study and sequence number. */
  trialBySeq(studyId: number, seq: number): TrialRecord | undefined {
    const row = prepared(this.db, 'SELECT * FROM trials WHERE study_id = ? AND seq = ?').get(studyId, seq);
    return row ? toTrial(row) : undefined;
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

  /** How many events the ledger holds. */
  eventCount(): number {
    return Number((prepared(this.db, 'SELECT COUNT(*) AS n FROM events').get() as { n: number }).n);
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
        if (ownerAlive(study)) {
          throw new StudyStateError(
            `study "${study.name}" is being run by process ${study.ownerPid} on ${study.ownerHost}; stop it first (Ctrl-C), or wait for it to finish`,
            { study: study.name, pid: study.ownerPid, host: study.ownerHost },
          );
        }
      }
      // Ownership is a lease, not history: it is not an event, and `strata ledger check` leaves these columns out.
      prepared(this.db, 'UPDATE studies SET owner_pid = ?, owner_host = ?, heartbeat_at = ? WHERE id = ?').run(pid, host, new Date().toISOString(), studyId);
    });
  }

  heartbeat(studyId: number): void {
    prepared(this.db, 'UPDATE studies SET heartbeat_at = ? WHERE id = ?').run(new Date().toISOString(), studyId);
  }

  release(studyId: number): void {
    prepared(this.db, 'UPDATE studies SET owner_pid = NULL, owner_host = NULL WHERE id = ? AND owner_pid = ?').run(studyId, process.pid);
  }

  private write(sql: string): void {
    try {
      this.db.exec(sql);
    } catch (error) {
      throw ledgerFault(error, this.path, sql === 'COMMIT' ? 'committing a change' : 'starting a change');
    }
  }

  /** Roll back after `error` (unless SQLite already did) and return the error to throw: the original one, never the rollback's. */
  private rollback(error: unknown): unknown {
    const fault = ledgerFault(error, this.path, 'writing to it');
    if (!this.db.isOpen || !this.db.isTransaction) return fault;
    try {
      this.db.exec('ROLLBACK');
    } catch (rollbackError) {
      return new LedgerError(`${(fault as Error).message ?? String(fault)} (and rolling back failed too: ${(rollbackError as Error).message})`, {
        cause: fault,
        details: { path: databasePath(this.db), rollback: (rollbackError as Error).message },
        code: fault instanceof LedgerError ? fault.code : 'ledger_failed',
      });
    }
    return fault;
  }
}

/**
 * The connection behind a ledger, for the modules of src/ledger/ that replay
 * or compare whole tables (rebuild, check). Not for anything outside
 * src/ledger/: a test holds every other layer to the typed methods and stores.
 *
 * @internal
 */
export function ledgerDatabase(ledger: Ledger): DatabaseSync {
  return databaseOfLedger(ledger);
}

/**
 * Does the process that claimed the study still live? On this host its pid
 * answers; elsewhere only its heartbeat can say (fresh within STALE_OWNER_MS).
 * A study `running` in the ledger whose owner is not alive was stopped by a
 * kill or a crash and resumes when its command runs again.
 *
 * @example
 * if (study.state === 'running' && !ownerAlive(study)) console.log('no orchestrator is running it');
 */
export function ownerAlive(study: Pick<StudyRecord, 'ownerPid' | 'ownerHost' | 'heartbeatAt'>, now = Date.now()): boolean {
  if (study.ownerPid === null) return false;
  if (study.ownerHost === hostname()) return isAlive(study.ownerPid);
  return study.heartbeatAt !== null && now - Date.parse(study.heartbeatAt) < STALE_OWNER_MS;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A killed orchestrator whose parent has not reaped it yet (a container whose init reaps nothing) is a zombie: dead.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (macOS): signal 0 answered, so it lives
  }
}
