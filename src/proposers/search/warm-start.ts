import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ConfigError } from '../../core/errors.ts';
import { activeOnly, isActive, type Observation, type ParamSpec, type ParamValue, type ParamValues, type SearchSpace } from '../../core/search-space.ts';
import type { MetricGoal } from '../../core/trial.ts';
import { ImportError } from '../../import/import-error.ts';
import { parseResultsTsv } from '../../import/results-tsv.ts';
import { isValidValue } from './parzen-estimator.ts';
import { studyObservations, type ObservedTrial } from './study-observations.ts';

/** What warm start needs of a ledger (the Ledger class has it). */
export interface StudyTrialsReader {
  studyByName(name: string): { id: number; name: string } | undefined;
  studies(): readonly { name: string }[];
  trials(studyId: number): readonly { status: ObservedTrial['status']; metric: number | null; params: Record<string, unknown> | null; paramsKey: string | null; candidateCommit: string | null }[];
}

export interface WarmStartOptions {
  /** `research.search.warm_start`: a study name, or a path (relative to `configDir`) to a results.tsv. */
  source: string;
  space: SearchSpace;
  goal: MetricGoal;
  /** This study's name: warm-starting from itself is a mistake worth naming. */
  studyName: string;
  configDir: string;
  ledger: StudyTrialsReader;
}

const PATH = 'research.search.warm_start';

/**
 * The observations `research.search.warm_start` names, in loss form and
 * oldest first: the finished trials of an earlier study in this ledger (one
 * observation per candidate, the mean of its runs), or the rows of a
 * results.tsv whose columns include every parameter (crashes count as
 * crashes). Only points that fit the current search space are kept (active
 * parameters, valid values); when none fits, or the source is missing, a
 * ConfigError at `research.search.warm_start` says why.
 *
 * @example
 * const warmStart = await loadWarmStart({ source: 'lr-sweep-v1', space, goal: 'minimize', studyName, configDir, ledger });
 */
export async function loadWarmStart(options: WarmStartOptions): Promise<Observation[]> {
  const { source, space } = options;
  const fromFile = /\.(tsv|txt)$/i.test(source) || source.includes('/');
  const { observations, total, origin } = fromFile ? await fromResultsTsv(options) : fromStudy(options);
  const fitting = observations.filter((observation) => fits(space, observation.params));
  if (fitting.length === 0) {
    const names = Object.keys(space).sort().join(', ');
    throw new ConfigError([{ path: PATH, message: `none of the ${total} results of ${origin} has values for the parameters ${names} inside their ranges; warm start needs the same parameter names` }]);
  }
  return fitting;
}

function fromStudy({ source, goal, studyName, ledger }: WarmStartOptions): { observations: Observation[]; total: number; origin: string } {
  if (source === studyName) throw new ConfigError([{ path: PATH, message: `${source} is this study; name an earlier one (or a results.tsv path)` }]);
  const study = ledger.studyByName(source);
  if (!study) {
    const known = ledger.studies().map((other) => other.name).filter((name) => name !== studyName);
    throw new ConfigError([{ path: PATH, message: `no study named ${JSON.stringify(source)} in this ledger${known.length > 0 ? `; studies: ${known.join(', ')}` : ''} (a results.tsv needs a path ending in .tsv)` }]);
  }
  const trials: ObservedTrial[] = ledger.trials(study.id).map((trial) => ({ ...trial, params: trial.params as ParamValues | null }));
  const { observations } = studyObservations(trials, [], goal);
  return { observations, total: observations.length, origin: `study ${source}` };
}

async function fromResultsTsv({ source, configDir, space, goal }: WarmStartOptions): Promise<{ observations: Observation[]; total: number; origin: string }> {
  const file = resolve(configDir, source);
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') throw new ConfigError([{ path: PATH, message: `${file} does not exist; give a results.tsv path relative to the config file, or an earlier study's name` }]);
    throw error;
  });
  let table: ReturnType<typeof parseResultsTsv>;
  try {
    table = parseResultsTsv(text, { file });
  } catch (error) {
    // A malformed table is a problem with what the config points at: say so at the config's path.
    if (error instanceof ImportError) throw new ConfigError([{ path: PATH, message: error.message }]);
    throw error;
  }
  const missing = Object.keys(space).filter((name) => !table.columns.includes(name) && space[name]!.when === undefined);
  if (missing.length > 0) {
    throw new ConfigError([{ path: PATH, message: `${file} has no column for ${missing.join(', ')}; its columns: ${table.columns.join(', ')}` }]);
  }
  const sign = goal === 'minimize' ? 1 : -1;
  const observations = table.rows.map((row) => {
    const params: ParamValues = {};
    for (const [name, spec] of Object.entries(space)) {
      const value = parseCell(spec, row.cells[name]);
      if (value !== undefined) params[name] = value;
    }
    const usable = row.metric !== null && Number.isFinite(row.metric) && (row.status === 'keep' || row.status === 'discard');
    return { params: activeOnly(space, params), loss: usable ? sign * row.metric! : null };
  });
  return { observations, total: observations.length, origin: file };
}

/** A cell as the parameter's value, or undefined when empty or unreadable. */
function parseCell(spec: ParamSpec, cell: string | undefined): ParamValue | undefined {
  if (cell === undefined || cell.trim() === '') return undefined;
  const text = cell.trim();
  if (spec.type === 'choice') return spec.values.find((value) => String(value) === text);
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/** Every active parameter present and valid, nothing inactive. */
function fits(space: SearchSpace, params: ParamValues): boolean {
  const active = activeOnly(space, params);
  if (Object.keys(active).length !== Object.keys(params).length) return false;
  return Object.keys(space).every((name) => !isActive(space, name, active) || isValidValue(space[name]!, active[name]));
}
