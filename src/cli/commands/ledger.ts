import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { LedgerError, StudyStateError } from '../../core/errors.ts';
import { checkLedger, type LedgerCheckResult, type LedgerDifference } from '../../ledger/ledger-check.ts';
import { Ledger } from '../../ledger/ledger.ts';
import { safeJson } from '../../core/terminal-text.ts';
import { ledgerPathFor } from '../../workspace/state-dir.ts';

export interface LedgerCommandOptions {
  cwd: string;
  /** The subcommand: only `check` for now. */
  action: string;
  /** The ledger file; default the repository's `.strata/ledger.db`. */
  ledger?: string;
  json?: boolean;
  out?: NodeJS.WritableStream;
}

/**
 * `strata ledger check [--ledger PATH] [--json]`: replay the ledger's events
 * into a fresh database and compare every state table with the live one.
 * Prints `ok` with the counts, or the first differences; exits 1 when they differ.
 */
export async function ledgerCommand(options: LedgerCommandOptions): Promise<number> {
  const out = options.out ?? process.stdout;
  if (options.action !== 'check') throw new StudyStateError(`unknown ledger action "${options.action}": the one there is is \`strata ledger check\``);
  const path = options.ledger ? resolve(options.cwd, options.ledger) : ledgerPathFor(options.cwd);
  if (!existsSync(path)) throw new LedgerError(`no ledger at ${path}: run a study here first, or pass --ledger <file>`, { details: { path } });
  // Migrated first where it can be (the check compares against what this Strata replays); read-only otherwise.
  const ledger = Ledger.openForReading(path);
  let result: LedgerCheckResult;
  try {
    result = checkLedger(ledger);
  } finally {
    ledger.close();
  }
  out.write(options.json ? `${safeJson(result, 2)}\n` : `${renderCheck(result)}\n`);
  return result.ok ? 0 : 1;
}

/** The check's result in lines for a terminal. */
export function renderCheck(result: LedgerCheckResult): string {
  const counts = Object.entries(result.rows)
    .map(([table, rows]) => `${table} ${rows}`)
    .join(', ');
  if (result.ok) return `ok: ${result.events} events replay into the same state tables (${counts}) · ${result.path} · ${result.ms} ms`;
  const lines = [
    `ledger check failed: ${result.path} differs from what its ${result.events} events replay into (${result.truncated ? 'first ' : ''}${result.differences.length} difference${result.differences.length === 1 ? '' : 's'}):`,
    ...result.differences.map((difference) => `  ${describe(difference)}`),
    'The events are the record: a table that disagrees with them was written around the event log, a bug in Strata; please report it with this output (--json gives every detail).',
  ];
  return lines.join('\n');
}

function describe(difference: LedgerDifference): string {
  const where = difference.rowId === '-' ? difference.table : `${difference.table} #${difference.rowId}`;
  // A row or a column present on one side only is said in words, not as a value.
  const shape = difference.column.startsWith('(') || difference.rowId === '-';
  const side = (value: unknown) => (shape ? String(value) : show(value));
  return `${where} ${difference.column}: live ${side(difference.live)}, replayed ${side(difference.replayed)}`;
}

function show(value: unknown): string {
  if (value === undefined) return '(none)';
  // Values are what trials and proposers wrote (descriptions, reasons): a terminal acts on none of their characters.
  const text = typeof value === 'string' ? safeJson(value) : String(value);
  return text.length > 120 ? `${text.slice(0, 117)}…` : text;
}
