import type { DatabaseSync, SQLOutputValue } from 'node:sqlite';
import { Ledger, ledgerDatabase } from './ledger.ts';
import { rebuildLedger } from './rebuild.ts';

/**
 * Columns that are deliberately not event-sourced: who holds a study right
 * now (a lease renewed every few seconds by the heartbeat, cleared on
 * release). They say nothing about what happened, so writing an event for
 * each heartbeat would only bloat the log; a replay leaves them NULL.
 */
const NOT_EVENT_SOURCED: Readonly<Record<string, readonly string[]>> = {
  studies: ['owner_pid', 'owner_host', 'heartbeat_at'],
};

/** Tables that are not state: the log itself, and the schema's bookkeeping. */
const NOT_STATE = new Set(['events', 'schema_migrations']);

/** One cell where the live ledger and its replayed events disagree. */
export interface LedgerDifference {
  table: string;
  /** The row's primary key (`id`, or `trial_id` for holdout_results). */
  rowId: number | string;
  /** The column, or `(row)` when the row exists on one side only. */
  column: string;
  live: SQLOutputValue | undefined;
  replayed: SQLOutputValue | undefined;
}

/** What `strata ledger check` found. */
export interface LedgerCheckResult {
  ok: boolean;
  path: string;
  /** Events replayed. */
  events: number;
  /** Rows per state table in the live ledger. */
  rows: Record<string, number>;
  /** The first differences (at most `limit`), table by table. */
  differences: LedgerDifference[];
  /** Whether there were more differences than listed. */
  truncated: boolean;
  /** Columns left out of the comparison, by table (see NOT_EVENT_SOURCED). */
  ignored: Record<string, readonly string[]>;
  ms: number;
}

/**
 * Replay the events of `ledger` into a fresh database and compare every
 * state table with the live one, row by row and column by column (all but
 * the ownership lease). A ledger whose events do not rebuild its tables has
 * state that was written around the event log: a bug, and what `ok: false`
 * reports.
 *
 * @example
 * const result = checkLedger(Ledger.open('.strata/ledger.db'));
 * if (!result.ok) console.log(result.differences[0]);
 */
export function checkLedger(ledger: Ledger, options: { limit?: number } = {}): LedgerCheckResult {
  const started = performance.now();
  const limit = options.limit ?? 20;
  const replayed = rebuildLedger(ledger);
  try {
    const live = ledgerDatabase(ledger);
    const fresh = ledgerDatabase(replayed);
    const differences: LedgerDifference[] = [];
    let truncated = false;
    const rows: Record<string, number> = {};
    // Every table the current schema has: a table the live ledger lacks (or has extra) is a difference too.
    const tables = new Set([...stateTables(live), ...stateTables(fresh)]);
    for (const table of [...tables].sort(tableOrder)) {
      const found = compareTable(live, fresh, table, limit - differences.length);
      rows[table] = found.rows;
      differences.push(...found.differences);
      truncated ||= found.truncated;
      if (differences.length >= limit) {
        truncated ||= differences.length > limit;
        differences.length = limit;
        break;
      }
    }
    return {
      ok: differences.length === 0,
      path: ledger.path,
      events: ledger.eventCount(),
      rows,
      differences,
      truncated,
      ignored: NOT_EVENT_SOURCED,
      ms: Math.round(performance.now() - started),
    };
  } finally {
    replayed.close();
  }
}

// Studies first, then the tables people look at most.
const ORDER = ['studies', 'trials', 'candidates', 'evaluations', 'llm_calls', 'holdout_results'];
function tableOrder(a: string, b: string): number {
  const rank = (table: string) => (ORDER.includes(table) ? ORDER.indexOf(table) : ORDER.length);
  return rank(a) - rank(b) || a.localeCompare(b);
}

function stateTables(db: DatabaseSync): string[] {
  return db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    .all()
    .map((row) => String(row.name))
    .filter((name) => !NOT_STATE.has(name));
}

function columnsOf(db: DatabaseSync, table: string): { names: string[]; key: string } {
  const info = db.prepare(`PRAGMA table_info(${quote(table)})`).all();
  const key = info.find((column) => Number(column.pk) === 1);
  return { names: info.map((column) => String(column.name)), key: key ? String(key.name) : 'rowid' };
}

function compareTable(live: DatabaseSync, fresh: DatabaseSync, table: string, room: number): { rows: number; differences: LedgerDifference[]; truncated: boolean } {
  const differences: LedgerDifference[] = [];
  const liveColumns = tableExists(live, table) ? columnsOf(live, table) : undefined;
  const freshColumns = tableExists(fresh, table) ? columnsOf(fresh, table) : undefined;
  if (!liveColumns || !freshColumns) {
    differences.push({ table, rowId: '-', column: '(table)', live: liveColumns ? 'present' : 'missing', replayed: freshColumns ? 'present' : 'missing' });
    return { rows: 0, differences, truncated: false };
  }
  const ignored = new Set(NOT_EVENT_SOURCED[table] ?? []);
  const columns = [...new Set([...liveColumns.names, ...freshColumns.names])].filter((column) => !ignored.has(column));
  for (const column of columns) {
    if (!liveColumns.names.includes(column) || !freshColumns.names.includes(column)) {
      differences.push({ table, rowId: '-', column, live: liveColumns.names.includes(column) ? 'present' : 'missing', replayed: freshColumns.names.includes(column) ? 'present' : 'missing' });
    }
  }
  if (differences.length > 0) return { rows: 0, differences: differences.slice(0, room), truncated: differences.length > room };
  const key = liveColumns.key;
  const select = `SELECT ${key === 'rowid' ? 'rowid AS __key, ' : ''}${columns.map(quote).join(', ')} FROM ${quote(table)} ORDER BY ${quote(key)}`;
  const keyOf = (row: Record<string, SQLOutputValue>) => (key === 'rowid' ? row.__key : row[key]) as number;
  // A merge of both sides in key order: memory stays flat however large the ledger.
  const left = live.prepare(select).iterate() as Iterator<Record<string, SQLOutputValue>>;
  const right = fresh.prepare(select).iterate() as Iterator<Record<string, SQLOutputValue>>;
  let a = left.next();
  let b = right.next();
  let truncated = false;
  const add = (difference: LedgerDifference): boolean => {
    if (differences.length >= room) {
      truncated = true;
      return false;
    }
    differences.push(difference);
    return true;
  };
  while (!a.done || !b.done) {
    const ka = a.done ? Number.POSITIVE_INFINITY : keyOf(a.value);
    const kb = b.done ? Number.POSITIVE_INFINITY : keyOf(b.value);
    if (ka < kb) {
      if (!add({ table, rowId: ka, column: '(row)', live: 'present', replayed: 'missing' })) break;
      a = left.next();
      continue;
    }
    if (kb < ka) {
      if (!add({ table, rowId: kb, column: '(row)', live: 'missing', replayed: 'present' })) break;
      b = right.next();
      continue;
    }
    for (const column of columns) {
      const x = a.value![column];
      const y = b.value![column];
      if (!same(x, y) && !add({ table, rowId: ka, column, live: x, replayed: y })) break;
    }
    if (truncated) break;
    a = left.next();
    b = right.next();
  }
  const rows = Number((live.prepare(`SELECT COUNT(*) AS n FROM ${quote(table)}`).get() as { n: number }).n);
  return { rows, differences, truncated };
}

function tableExists(db: DatabaseSync, table: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) !== undefined;
}

function same(x: SQLOutputValue | undefined, y: SQLOutputValue | undefined): boolean {
  if (x instanceof Uint8Array && y instanceof Uint8Array) return x.length === y.length && x.every((byte, i) => byte === y[i]);
  return x === y || (Number.isNaN(x) && Number.isNaN(y));
}

function quote(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}
