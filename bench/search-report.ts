/**
 * Tables of the search benchmark: per problem and budget the median regret
 * (and its interquartile range) of every sampler over the seeds, and the
 * geometric means of median-regret ratios against Optuna's TPE and random
 * search.
 */
import type { BenchProblem, ProblemGroup } from './search-problems.ts';
import type { RunRecord } from './search-run.ts';

/** A budget: a fixed number of trials, or 10 per declared parameter. */
export type Budget = number | '10xD';

export function budgetTrials(budget: Budget, problem: BenchProblem): number {
  return budget === '10xD' ? 10 * problem.dimension : budget;
}

/** Linear-interpolated quantile (R type 7). */
export function quantile(values: readonly number[], q: number): number {
  const sorted = values.slice().sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below]! + (sorted[above]! - sorted[below]!) * (position - below);
}

export interface Cell {
  problem: BenchProblem;
  budget: Budget;
  trials: number;
  /** Per sampler: the regrets after `trials` trials, one per seed. */
  regrets: Map<string, number[]>;
}

/** Group run records into cells; a sampler enters a cell only with a run for every seed asked for. */
export function buildCells(records: readonly RunRecord[], problems: readonly BenchProblem[], budgets: readonly Budget[], seeds: readonly number[]): Cell[] {
  const index = new Map<string, RunRecord>();
  for (const record of records) index.set(`${record.problem}|${record.sampler}|${record.seed}`, record);
  const samplers = [...new Set(records.map((record) => record.sampler))];
  const cells: Cell[] = [];
  for (const budget of budgets) {
    for (const problem of problems) {
      const trials = budgetTrials(budget, problem);
      const regrets = new Map<string, number[]>();
      for (const sampler of samplers) {
        const values: number[] = [];
        for (const seed of seeds) {
          const trace = index.get(`${problem.id}|${sampler}|${seed}`)?.trace;
          if (trace === undefined || trace.length < trials) break;
          values.push(trace[trials - 1]!);
        }
        if (values.length === seeds.length) regrets.set(sampler, values);
      }
      if (regrets.size > 0) cells.push({ problem, budget, trials, regrets });
    }
  }
  return cells;
}

export interface Comparison {
  /** Geometric mean over cells of median(sampler) / median(reference). */
  geometricMeanRatio: number;
  cells: number;
  /** Cells where the sampler's median regret is above the reference's. */
  worse: string[];
}

/** Compare `sampler` with `reference` over the cells holding both. */
export function compare(cells: readonly Cell[], sampler: string, reference: string): Comparison | undefined {
  let logSum = 0;
  let count = 0;
  const worse: string[] = [];
  for (const cell of cells) {
    const ours = cell.regrets.get(sampler);
    const theirs = cell.regrets.get(reference);
    if (!ours || !theirs) continue;
    const ratio = quantile(ours, 0.5) / quantile(theirs, 0.5);
    logSum += Math.log(ratio);
    count++;
    if (ratio > 1) worse.push(`${cell.problem.id}@${cell.trials}`);
  }
  return count === 0 ? undefined : { geometricMeanRatio: Math.exp(logSum / count), cells: count, worse };
}

export function formatNumber(value: number): string {
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e4 || magnitude < 1e-3) return value.toExponential(2);
  return Number(value.toPrecision(3)).toString();
}

function budgetLabel(budget: Budget): string {
  return budget === '10xD' ? '10×D' : String(budget);
}

/**
 * The summary table: one row per budget and problem group, geometric-mean
 * regret ratios of each Strata sampler against the references, over the
 * cells where both ran on every seed ("worse on k of n": n such cells).
 */
export function summaryTable(cells: readonly Cell[], budgets: readonly Budget[], samplers: readonly string[], references: readonly string[]): string {
  const groups: Array<ProblemGroup | 'all'> = ['bbob', 'bbob-noisy', 'mixed', 'all'];
  const header = ['budget', 'problems', ...samplers.flatMap((sampler) => references.map((reference) => `${short(sampler)} / ${short(reference)}`))];
  const rows: string[][] = [];
  for (const budget of budgets) {
    for (const group of groups) {
      const selected = cells.filter((cell) => cell.budget === budget && (group === 'all' || cell.problem.group === group));
      if (selected.length === 0) continue;
      const values = samplers.flatMap((sampler) =>
        references.map((reference) => {
          const comparison = compare(selected, sampler, reference);
          return comparison ? `${comparison.geometricMeanRatio.toFixed(3)} (worse on ${comparison.worse.length} of ${comparison.cells})` : '—';
        }),
      );
      if (values.every((value) => value === '—')) continue;
      rows.push([budgetLabel(budget), group, ...values]);
    }
  }
  return markdown(header, rows);
}

/** Per cell: median [IQR] of every sampler present, the Strata sampler's ratios. */
export function detailTable(cells: readonly Cell[], samplers: readonly string[], focus: string): string {
  const header = ['problem', 'trials', ...samplers.map(short), `${short(focus)} / optuna tpe`, `${short(focus)} / optuna random`];
  const rows = cells.map((cell) => {
    const median = (sampler: string) => {
      const values = cell.regrets.get(sampler);
      return values ? quantile(values, 0.5) : undefined;
    };
    const summary = (sampler: string) => {
      const values = cell.regrets.get(sampler);
      if (!values) return '—';
      return `${formatNumber(quantile(values, 0.5))} [${formatNumber(quantile(values, 0.25))}, ${formatNumber(quantile(values, 0.75))}]`;
    };
    const ratio = (reference: string) => {
      const ours = median(focus);
      const theirs = median(reference);
      return ours === undefined || theirs === undefined ? '—' : (ours / theirs).toFixed(3);
    };
    return [cell.problem.id, String(cell.trials), ...samplers.map(summary), ratio('optuna:tpe'), ratio('optuna:random')];
  });
  return markdown(header, rows);
}

/**
 * The parallel-slot penalty: each Strata sampler run with `@<slots>` against
 * the same sampler on one slot, at the same number of trials (above 1: the
 * slots cost regret), per budget and problem group.
 */
export function slotsTable(cells: readonly Cell[], budgets: readonly Budget[], samplers: readonly string[]): string | undefined {
  const pairs = samplers.flatMap((sampler) => {
    const match = /^(.*)@(\d+)$/.exec(sampler);
    return match && samplers.includes(match[1]!) ? [{ parallel: sampler, serial: match[1]! }] : [];
  });
  if (pairs.length === 0) return undefined;
  const groups: Array<ProblemGroup | 'all'> = ['bbob', 'bbob-noisy', 'mixed', 'all'];
  const rows: string[][] = [];
  for (const budget of budgets) {
    for (const group of groups) {
      const selected = cells.filter((cell) => cell.budget === budget && (group === 'all' || cell.problem.group === group));
      const values = pairs.map(({ parallel, serial }) => {
        const comparison = compare(selected, parallel, serial);
        return comparison ? `${comparison.geometricMeanRatio.toFixed(3)} (worse on ${comparison.worse.length} of ${comparison.cells})` : undefined;
      });
      if (values.every((value) => value === undefined)) continue;
      rows.push([budgetLabel(budget), group, ...values.map((value) => value ?? '—')]);
    }
  }
  return markdown(['budget', 'problems', ...pairs.map(({ parallel, serial }) => `${short(parallel)} / ${short(serial)}`)], rows);
}

/**
 * The goal's second half, cell by cell: where `sampler`'s median regret is
 * above `reference`'s (random search), with both medians.
 */
export function worseThanTable(cells: readonly Cell[], sampler: string, reference: string): string {
  const rows: string[][] = [];
  for (const cell of cells) {
    const ours = cell.regrets.get(sampler);
    const theirs = cell.regrets.get(reference);
    if (!ours || !theirs) continue;
    const a = quantile(ours, 0.5);
    const b = quantile(theirs, 0.5);
    if (a > b) rows.push([cell.problem.id, String(cell.trials), formatNumber(a), formatNumber(b), (a / b).toFixed(3)]);
  }
  if (rows.length === 0) return `(none: ${short(sampler)}'s median regret is at most ${short(reference)}'s in every cell)`;
  return markdown(['problem', 'trials', short(sampler), short(reference), 'ratio'], rows);
}

/** Milliseconds per proposal of each sampler, mean over its runs. */
export function timingTable(records: readonly RunRecord[]): string {
  const bySampler = new Map<string, { seconds: number; trials: number; runs: number }>();
  for (const record of records) {
    const entry = bySampler.get(record.sampler) ?? { seconds: 0, trials: 0, runs: 0 };
    entry.seconds += record.seconds;
    entry.trials += record.trace.length;
    entry.runs++;
    bySampler.set(record.sampler, entry);
  }
  const rows = [...bySampler.entries()].map(([sampler, entry]) => [sampler, String(entry.runs), ((1000 * entry.seconds) / entry.trials).toFixed(2)]);
  return markdown(['sampler', 'runs', 'ms per trial (proposal + bookkeeping)'], rows);
}

function short(sampler: string): string {
  return sampler.replace(':', ' ');
}

function markdown(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => ' --- ').join('|')}|`, ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n');
}
