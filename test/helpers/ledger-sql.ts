/**
 * Raw SQL on a ledger file for tests that inspect (or tamper with) tables the
 * typed API does not expose. A separate connection: the ledger keeps its
 * connection to itself, and only src/ledger/ may run SQL in Strata.
 */
import { DatabaseSync, type SQLInputValue, type SQLOutputValue } from 'node:sqlite';
import type { Ledger } from '../../src/ledger/ledger.ts';

function connect(ledger: Ledger | string, readOnly: boolean): DatabaseSync {
  const path = typeof ledger === 'string' ? ledger : ledger.path;
  if (path === ':memory:') throw new Error('an in-memory ledger has no file to inspect: open it on a file');
  const db = new DatabaseSync(path, { readOnly });
  db.exec('PRAGMA busy_timeout = 10000');
  return db;
}

/** The rows `sql` selects. */
export function sqlRows(ledger: Ledger | string, sql: string, ...params: SQLInputValue[]): Record<string, SQLOutputValue>[] {
  const db = connect(ledger, true);
  try {
    return db.prepare(sql).all(...params);
  } finally {
    db.close();
  }
}

/** The first row `sql` selects. */
export function sqlRow(ledger: Ledger | string, sql: string, ...params: SQLInputValue[]): Record<string, SQLOutputValue> | undefined {
  return sqlRows(ledger, sql, ...params)[0];
}

/**
 * `sqlRow` on a ledger another process is creating: undefined until its
 * tables exist (the file appears before its first migration commits).
 */
export function sqlRowOnceCreated(path: string, sql: string, ...params: SQLInputValue[]): Record<string, SQLOutputValue> | undefined {
  try {
    return sqlRow(path, sql, ...params);
  } catch (error) {
    if (/no such table/.test((error as Error).message)) return undefined;
    throw error;
  }
}

/** Run a writing statement (tests that simulate tampering or a foreign owner). */
export function sqlRun(ledger: Ledger | string, sql: string, ...params: SQLInputValue[]): void {
  const db = connect(ledger, false);
  try {
    db.prepare(sql).run(...params);
  } finally {
    db.close();
  }
}
