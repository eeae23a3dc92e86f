import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { pathToFileURL } from 'node:url';
import { LedgerError } from '../core/errors.ts';
import { migrations as allMigrations, type Migration } from './migrations.ts';
import { execute, nameDatabase } from './prepared.ts';
import { ledgerFault, SQLITE_CANTOPEN, sqliteCode } from './sqlite-faults.ts';

/** How to open a ledger file. */
export interface OpenDatabaseOptions {
  /**
   * Open an existing ledger without writing anything: no folder or file is
   * created and no migration runs (status, the dashboard, a read-only
   * repository). A ledger whose schema is older than this Strata's cannot be
   * read this way; the error says how to migrate it.
   */
  readOnly?: boolean;
  /** The migrations to apply (tests pass a prefix of the list). */
  migrations?: readonly Migration[];
}

/**
 * Open (creating if needed) a SQLite ledger file in WAL mode and bring its
 * schema up to date, or open an existing one read-only. `:memory:` works for tests.
 */
export function openDatabase(path: string, options: OpenDatabaseOptions = {}): DatabaseSync {
  const list = options.migrations ?? allMigrations;
  if (options.readOnly) return openReadOnly(path, list);
  if (path !== ':memory:') {
    try {
      mkdirSync(dirname(path), { recursive: true });
    } catch (error) {
      throw new LedgerError(`cannot create the folder of the ledger ${dirname(path)}: ${(error as Error).message}; check that the repository is writable`, {
        cause: error,
        details: { path },
        code: (error as NodeJS.ErrnoException).code === 'EROFS' ? 'ledger_read_only' : 'ledger_failed',
      });
    }
  }
  const db = connect(path, false);
  try {
    execute(db, 'PRAGMA busy_timeout = 10000', 'opening it');
    if (path !== ':memory:') execute(db, 'PRAGMA journal_mode = WAL', 'opening it');
    execute(db, 'PRAGMA synchronous = NORMAL', 'opening it');
    execute(db, 'PRAGMA foreign_keys = ON', 'opening it');
    migrate(db, list, path);
  } catch (error) {
    db.close();
    throw readOnlyFolder(error, path) ?? error;
  }
  return db;
}

/** A read-only folder (or file system) behind a failure to open or write, said as such; undefined when it is something else. */
function readOnlyFolder(error: unknown, path: string): LedgerError | undefined {
  if (!(error instanceof LedgerError) || (sqliteCode(error.cause) !== SQLITE_CANTOPEN && error.code !== 'ledger_read_only')) return undefined;
  const folder = dirname(path);
  try {
    accessSync(folder, constants.W_OK);
    if (existsSync(path)) accessSync(path, constants.W_OK);
    return undefined;
  } catch (access) {
    return new LedgerError(
      `the ledger at ${path} cannot be written: ${folder} is read-only (${(access as NodeJS.ErrnoException).code}). ` +
        'Read-only commands work there (`strata status`, `strata serve`, `strata report`); to run a study, make the repository writable or work in a writable clone',
      { cause: error, details: { path }, code: 'ledger_read_only' },
    );
  }
}

function connect(path: string | URL, readOnly: boolean, name = String(path)): DatabaseSync {
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path, { readOnly });
  } catch (error) {
    const fault = ledgerFault(error, name, 'opening it');
    throw fault instanceof LedgerError ? fault : new LedgerError(`cannot open the ledger at ${name}: ${(error as Error).message}`, { cause: error, details: { path: name } });
  }
  nameDatabase(db, name);
  return db;
}

function openReadOnly(path: string, list: readonly Migration[]): DatabaseSync {
  if (path === ':memory:' || !existsSync(path)) {
    throw new LedgerError(`no ledger at ${path}: run \`strata research\` (or \`strata evolve\`) in this repository first`, { details: { path } });
  }
  let db = connect(path, true);
  let state: { newest: number; pending: Migration[] };
  try {
    execute(db, 'PRAGMA busy_timeout = 5000', 'opening it');
    state = schemaState(db, list, path);
  } catch (error) {
    db.close();
    if (!(error instanceof LedgerError && sqliteCode(error.cause) === SQLITE_CANTOPEN)) throw error;
    // A WAL ledger on a read-only file system: SQLite cannot create its shared-memory file, so read the
    // file as immutable, which is true of it there. Changes never checkpointed (a -wal file) would be skipped: refuse.
    db = openImmutable(path);
    state = schemaState(db, list, path);
  }
  if (state.pending.length > 0) {
    db.close();
    const { newest, pending } = state;
    throw new LedgerError(
      `the ledger at ${path} has schema version ${newest} and needs migration ${pending.map((m) => m.version).join(', ')} (${pending.map((m) => m.name).join('; ')}) before this Strata can read it, ` +
        `but it cannot be written here: run \`strata ledger check --ledger ${path}\` once where the ledger is writable (it migrates, then checks), or copy it somewhere writable and pass --ledger`,
      { details: { path, newest, pending: pending.map((m) => m.version) }, code: 'ledger_migration_needed' },
    );
  }
  return db;
}

function openImmutable(path: string): DatabaseSync {
  const wal = `${path}-wal`;
  if (existsSync(wal) && statSync(wal).size > 0) {
    throw new LedgerError(
      `the ledger at ${path} is on a read-only file system with changes never written into it (${wal}, left by a process that stopped): open it once where it is writable (any strata command) to fold them in`,
      { details: { path }, code: 'ledger_read_only' },
    );
  }
  const url = pathToFileURL(path);
  url.searchParams.set('immutable', '1');
  const db = connect(url, true, path);
  execute(db, 'PRAGMA busy_timeout = 5000', 'opening it');
  return db;
}

/** The newest applied migration and the known ones not yet applied; refuses a ledger newer than this Strata. */
function schemaState(db: DatabaseSync, list: readonly Migration[], path: string): { newest: number; pending: Migration[] } {
  let applied: Set<number>;
  try {
    const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
    applied = new Set(table ? (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((row) => Number(row.version)) : []);
  } catch (error) {
    throw ledgerFault(error, path, 'reading its schema version');
  }
  const newest = Math.max(0, ...applied);
  const known = Math.max(0, ...list.map((m) => m.version));
  if (newest > known) {
    throw new LedgerError(`the ledger at ${path} has schema version ${newest}, newer than this Strata knows (${known}); upgrade Strata to read it`, {
      details: { path, newest, known },
    });
  }
  return { newest, pending: [...list].filter((m) => !applied.has(m.version)).sort((a, b) => a.version - b.version) };
}

function migrate(db: DatabaseSync, list: readonly Migration[], path: string): void {
  execute(db, 'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)', 'opening it');
  for (const migration of schemaState(db, list, path).pending) {
    execute(db, 'BEGIN IMMEDIATE', `migrating it to schema ${migration.version}`);
    try {
      // Another process (a status command, the dashboard) may have migrated while we waited for the lock.
      if (db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?').get(migration.version)) {
        db.exec('COMMIT');
        continue;
      }
      db.exec(migration.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(migration.version, migration.name, new Date().toISOString());
      db.exec('COMMIT');
    } catch (error) {
      // A fault (a full disk) may have rolled the transaction back already; a second ROLLBACK would hide it.
      if (db.isTransaction) db.exec('ROLLBACK');
      const fault = ledgerFault(error, path, `migrating it to schema ${migration.version}`);
      throw fault instanceof LedgerError
        ? fault
        : new LedgerError(`ledger migration ${migration.version} (${migration.name}) failed: ${(error as Error).message}`, { cause: error, details: { path, version: migration.version } });
    }
  }
}
