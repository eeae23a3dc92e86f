import type { DatabaseSync, SQLInputValue, SQLOutputValue, StatementResultingChanges, StatementSync } from 'node:sqlite';
import { ledgerFault } from './sqlite-faults.ts';

/** A prepared statement whose storage faults (a full disk, a damaged file) come out as LedgerErrors naming the ledger. */
export interface Statement {
  run(...params: SQLInputValue[]): StatementResultingChanges;
  get(...params: SQLInputValue[]): Record<string, SQLOutputValue> | undefined;
  all(...params: SQLInputValue[]): Record<string, SQLOutputValue>[];
}

const caches = new WeakMap<DatabaseSync, Map<string, Statement>>();
const paths = new WeakMap<DatabaseSync, string>();
const beforeStatements = new WeakMap<DatabaseSync, () => void>();

/**
 * Run `hook` before every statement `prepared` or `preparedArrays` runs on
 * `db`: the ledger commits the writes it deferred there, so whatever this
 * connection reads includes them.
 */
export function beforeEachStatement(db: DatabaseSync, hook: () => void): void {
  beforeStatements.set(db, hook);
}

/** Name the file behind `db`, for the messages of its faults. */
export function nameDatabase(db: DatabaseSync, path: string): void {
  paths.set(db, path);
}

/** The file behind `db` (as named by nameDatabase). */
export function databasePath(db: DatabaseSync): string {
  return paths.get(db) ?? 'the ledger';
}

/**
 * A prepared statement for `sql`, compiled once per database. The ledger runs
 * the same few statements for every event; compiling each time was a
 * measurable share of its cost. Every ledger statement goes through here,
 * so this is where a storage fault becomes one line saying what to do.
 */
export function prepared(db: DatabaseSync, sql: string): Statement {
  let cache = caches.get(db);
  if (!cache) {
    cache = new Map();
    caches.set(db, cache);
  }
  let statement = cache.get(sql);
  if (!statement) {
    statement = guard(db, sql);
    cache.set(sql, statement);
  }
  return statement;
}

const arrayCaches = new WeakMap<DatabaseSync, Map<string, { all(...params: SQLInputValue[]): SQLOutputValue[][] }>>();

/**
 * A prepared statement whose rows come back as arrays of column values, in
 * the order the SELECT names them: for reads of hundreds of thousands of
 * rows (an evolve study's score matrix), where building an object per row
 * was half the cost. Faults come out as from `prepared`.
 */
export function preparedArrays(db: DatabaseSync, sql: string): { all(...params: SQLInputValue[]): SQLOutputValue[][] } {
  let cache = arrayCaches.get(db);
  if (!cache) {
    cache = new Map();
    arrayCaches.set(db, cache);
  }
  let statement = cache.get(sql);
  if (!statement) {
    let compiled: StatementSync;
    try {
      compiled = db.prepare(sql);
    } catch (error) {
      throw ledgerFault(error, databasePath(db), 'reading it');
    }
    compiled.setReturnArrays(true);
    statement = {
      all: (...params) => {
        beforeStatements.get(db)?.();
        try {
          return compiled.all(...params) as unknown as SQLOutputValue[][];
        } catch (error) {
          throw ledgerFault(error, databasePath(db), 'reading it');
        }
      },
    };
    cache.set(sql, statement);
  }
  return statement;
}

function guard(db: DatabaseSync, sql: string): Statement {
  let compiled: StatementSync;
  try {
    compiled = db.prepare(sql);
  } catch (error) {
    throw ledgerFault(error, databasePath(db), 'reading it');
  }
  const action = /^\s*(SELECT|PRAGMA|WITH)\b/i.test(sql) ? 'reading it' : 'writing to it';
  const wrap =
    <R>(call: (...params: SQLInputValue[]) => R) =>
    (...params: SQLInputValue[]): R => {
      beforeStatements.get(db)?.();
      try {
        return call(...params);
      } catch (error) {
        throw ledgerFault(error, databasePath(db), action);
      }
    };
  return {
    run: wrap((...params) => compiled.run(...params)),
    get: wrap((...params) => compiled.get(...params)),
    all: wrap((...params) => compiled.all(...params)),
  };
}

/** Run SQL without results (BEGIN, COMMIT, DDL), with the same fault messages as `prepared`. */
export function execute(db: DatabaseSync, sql: string, action = 'writing to it'): void {
  try {
    db.exec(sql);
  } catch (error) {
    throw ledgerFault(error, databasePath(db), action);
  }
}
