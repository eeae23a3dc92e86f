import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { LedgerError } from '../core/errors.ts';
import { migrations, type Migration } from './migrations.ts';

/**
 * Open (creating if needed) a SQLite ledger file in WAL mode and bring its
 * schema up to date. `:memory:` works for tests.
 */
export function openDatabase(path: string, list: readonly Migration[] = migrations): DatabaseSync {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path);
  } catch (error) {
    throw new LedgerError(`cannot open the ledger at ${path}: ${(error as Error).message}`, { cause: error, details: { path } });
  }
  db.exec('PRAGMA busy_timeout = 10000');
  if (path !== ':memory:') db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = NORMAL');
  db.exec('PRAGMA foreign_keys = ON');
  migrate(db, list, path);
  return db;
}

function migrate(db: DatabaseSync, list: readonly Migration[], path: string): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
  const applied = new Set(
    (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((row) => row.version),
  );
  const newest = Math.max(0, ...applied);
  const known = Math.max(0, ...list.map((m) => m.version));
  if (newest > known) {
    throw new LedgerError(
      `the ledger at ${path} has schema version ${newest}, newer than this Strata knows (${known}); upgrade Strata to read it`,
      { details: { path, newest, known } },
    );
  }
  for (const migration of [...list].sort((a, b) => a.version - b.version)) {
    if (applied.has(migration.version)) continue;
    db.exec('BEGIN IMMEDIATE');
    try {
      // Another process (a status command, the dashboard) may have migrated while we waited for the lock.
      if (db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?').get(migration.version)) {
        db.exec('COMMIT');
        continue;
      }
      db.exec(migration.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        migration.version,
        migration.name,
        new Date().toISOString(),
      );
      db.exec('COMMIT');
    } catch (error) {
      db.exec('ROLLBACK');
      throw new LedgerError(`ledger migration ${migration.version} (${migration.name}) failed: ${(error as Error).message}`, {
        cause: error,
        details: { path, version: migration.version },
      });
    }
  }
}
