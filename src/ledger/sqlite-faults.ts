import { dirname } from 'node:path';
import { LedgerError } from '../core/errors.ts';

/** SQLite's primary result codes we turn into a message (extended codes carry them in the low byte). */
const SQLITE_READONLY = 8;
const SQLITE_IOERR = 10;
const SQLITE_CORRUPT = 11;
const SQLITE_FULL = 13;
export const SQLITE_CANTOPEN = 14;
const SQLITE_NOTADB = 26;

/** The SQLite result code of an error node:sqlite threw, if it is one. */
export function sqliteCode(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, errcode } = error as { code?: unknown; errcode?: unknown };
  return code === 'ERR_SQLITE_ERROR' && typeof errcode === 'number' ? errcode & 0xff : undefined;
}

/**
 * A storage fault (a damaged file, a full disk, a read-only file system) as a
 * LedgerError whose message says what happened and what to do; any other
 * error comes back unchanged (never swallowed, never
 * rewrapped twice). `action` completes "while …" (e.g. "recording trial.finished").
 */
export function ledgerFault(error: unknown, path: string, action: string): unknown {
  if (error instanceof LedgerError) return error;
  const code = sqliteCode(error);
  if (code === undefined) return error;
  const details = { path, action, sqlite: (error as { errstr?: string }).errstr ?? (error as Error).message };
  switch (code) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return new LedgerError(
        `the ledger at ${path} is damaged (${(error as Error).message}) while ${action}: restore it from a backup and run \`strata ledger check --ledger ${path}\` to confirm its events rebuild its tables, ` +
          `or salvage what is left with \`sqlite3 ${path} .recover > recovered.sql\``,
        { cause: error, details, code: 'ledger_corrupt' },
      );
    case SQLITE_FULL:
      return new LedgerError(`the disk holding the ledger (${dirname(path)}) is full while ${action}: free space there, then run again to resume; nothing after the last finished step was recorded`, {
        cause: error,
        details,
        code: 'ledger_disk_full',
      });
    case SQLITE_READONLY:
      return new LedgerError(`the ledger at ${path} cannot be written while ${action}: it, or ${dirname(path)}, is read-only; give write access to both, or run read-only commands (\`strata status\`, \`strata serve\`) only`, {
        cause: error,
        details,
        code: 'ledger_read_only',
      });
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
      return new LedgerError(`cannot ${code === SQLITE_CANTOPEN ? 'open' : 'read or write'} the ledger at ${path} while ${action} (${(error as Error).message}): check that ${dirname(path)} exists, is readable and has free space`, {
        cause: error,
        details,
        code: 'ledger_failed',
      });
    default:
      // Anything else (a constraint, a missing table) is a bug in Strata, not a fault of the storage: keep its stack.
      return error;
  }
}
