import { FINAL_STATUSES, type FinalTrialStatus } from '../core/trial.ts';
import { parseMetricNumber } from '../executors/metric-parser.ts';
import { ImportError } from './import-error.ts';

/** One experiment of a results.tsv. */
export interface ResultRow {
  /** 1-based line in the file. */
  line: number;
  /** The commit as written (autoresearch writes 7 characters). */
  commit: string;
  status: FinalTrialStatus;
  /** The main metric; null for crashes (autoresearch writes 0.000000 there). */
  metric: number | null;
  /** Every other numeric column by its header (e.g. memory_gb). */
  metrics: Record<string, number>;
  description: string;
  /** Every cell by its header, as written. */
  cells: Record<string, string>;
}

/** A parsed results.tsv. */
export interface ResultsTable {
  columns: string[];
  /** The header of the metric column. */
  metric: string;
  rows: ResultRow[];
}

const REQUIRED = ['commit', 'status', 'description'];

/**
 * Parse autoresearch's results.tsv: a header row, then one tab-separated row
 * per experiment with `commit`, the metric (the column after commit unless
 * `metric` names another), any other columns, `status` (keep, discard, crash,
 * or another Strata status) and `description`. Every problem is reported at
 * once with its line.
 *
 * @example
 * parseResultsTsv('commit\tval_bpb\tmemory_gb\tstatus\tdescription\na1b2c3d\t0.997900\t44.0\tkeep\tbaseline\n').rows[0];
 * // { line: 2, commit: 'a1b2c3d', status: 'keep', metric: 0.9979, metrics: { memory_gb: 44 }, description: 'baseline', … }
 */
export function parseResultsTsv(text: string, options: { metric?: string; file?: string } = {}): ResultsTable {
  const file = options.file ?? 'results.tsv';
  const lines = text.split(/\r?\n/);
  const headerIndex = lines.findIndex((line) => line.trim() !== '');
  if (headerIndex < 0) throw new ImportError(`${file} is empty: expected a header row (commit, <metric>, …, status, description) and one row per experiment`, { file });
  const columns = lines[headerIndex]!.split('\t').map((cell) => cell.trim());
  const lower = columns.map((column) => column.toLowerCase());
  const missing = REQUIRED.filter((name) => !lower.includes(name));
  if (missing.length > 0) {
    throw new ImportError(
      `${file} line ${headerIndex + 1}: the header has no ${missing.join(', ')} column; expected autoresearch's tab-separated header, e.g. commit<TAB>val_bpb<TAB>memory_gb<TAB>status<TAB>description (got ${JSON.stringify(lines[headerIndex])})`,
      { file, columns },
    );
  }
  const at = (name: string) => lower.indexOf(name);
  const metric = options.metric ?? columns.find((_, index) => index > at('commit') && !REQUIRED.includes(lower[index]!));
  if (metric === undefined || !columns.includes(metric)) {
    throw new ImportError(
      `${file}: ${metric === undefined ? 'no metric column (expected one after commit)' : `no column ${JSON.stringify(metric)}`}; columns: ${columns.join(', ')}`,
      { file, columns },
    );
  }

  const problems: string[] = [];
  const rows: ResultRow[] = [];
  for (let index = headerIndex + 1; index < lines.length; index++) {
    const raw = lines[index]!;
    if (raw.trim() === '') continue;
    const line = index + 1;
    let cells = raw.split('\t');
    // A description holding tabs (the last column in autoresearch's layout) is joined back.
    if (cells.length > columns.length && at('description') === columns.length - 1) {
      cells = [...cells.slice(0, columns.length - 1), cells.slice(columns.length - 1).join(' ')];
    }
    if (cells.length !== columns.length) {
      problems.push(`line ${line}: ${cells.length} cells for ${columns.length} columns`);
      continue;
    }
    const byName = Object.fromEntries(columns.map((column, column_) => [column, cells[column_]!.trim()]));
    const commit = cells[at('commit')]!.trim();
    const status = cells[at('status')]!.trim().toLowerCase();
    if (!/^[0-9a-f]{4,40}$/i.test(commit)) problems.push(`line ${line}: commit ${JSON.stringify(commit)} is not a git hash`);
    if (!(FINAL_STATUSES as readonly string[]).includes(status)) problems.push(`line ${line}: status ${JSON.stringify(status)} is not one of ${FINAL_STATUSES.join(', ')}`);
    const metricText = byName[metric]!;
    const value = parseMetricNumber(metricText);
    const finite = value !== null && Number.isFinite(value);
    if (!finite && (status === 'keep' || status === 'discard')) problems.push(`line ${line}: ${metric} ${JSON.stringify(metricText)} is not a number, but the status is ${status}`);
    const metrics: Record<string, number> = {};
    columns.forEach((column, column_) => {
      if (column === metric || column_ === at('commit') || column_ === at('status') || column_ === at('description')) return;
      const number = parseMetricNumber(cells[column_]!.trim());
      if (number !== null && Number.isFinite(number)) metrics[column] = number;
    });
    rows.push({
      line,
      commit,
      status: status as FinalTrialStatus,
      // autoresearch logs a crash as 0.000000: that is "no metric", not a perfect score.
      metric: status === 'crash' || !finite ? null : value,
      metrics,
      description: cells[at('description')]!.trim(),
      cells: byName,
    });
  }
  if (problems.length > 0) {
    throw new ImportError(`${file} has ${problems.length} problem${problems.length === 1 ? '' : 's'}; nothing was imported:\n${problems.map((problem) => `  ${problem}`).join('\n')}`, { file, problems });
  }
  if (rows.length === 0) throw new ImportError(`${file} has a header but no experiments: nothing to import`, { file });
  return { columns, metric, rows };
}
