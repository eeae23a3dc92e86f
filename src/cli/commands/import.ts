import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { ConfigError } from '../../core/errors.ts';
import type { MetricGoal } from '../../core/trial.ts';
import { readBranchHistory } from '../../import/branch-history.ts';
import { ImportError } from '../../import/import-error.ts';
import { importStudy } from '../../import/import-study.ts';
import { parseResultsTsv } from '../../import/results-tsv.ts';
import { goalFromName } from '../../init/metric-guess.ts';
import { Ledger } from '../../ledger/ledger.ts';
import { StudyRepository } from '../../workspace/study-repository.ts';
import { formatMetric } from '../format.ts';
import { loadConfig } from '../load-config.ts';

export interface ImportCommandOptions {
  cwd: string;
  /** The results file, e.g. results.tsv. */
  file: string;
  /** strata.yaml: when it exists its metric, goal and research settings are used. */
  config: string;
  branch?: string;
  name?: string;
  metric?: string;
  goal?: string;
  out?: NodeJS.WritableStream;
}

const STUDY_NAME = /^[a-z0-9][a-z0-9._-]*(\/[a-z0-9][a-z0-9._-]*)*$/;

/**
 * `strata import results.tsv`: bring a finished autoresearch run (its
 * results.tsv and the branch it advanced) into the ledger as a `done` study,
 * so `status`, `export`, `report` and the dashboard show past nights beside
 * new ones.
 */
export async function importCommand(options: ImportCommandOptions): Promise<number> {
  const out = options.out ?? process.stdout;
  const path = resolve(options.cwd, options.file);
  if (!existsSync(path)) throw new ImportError(`no file at ${path}: give the path of an autoresearch results.tsv`, { path });
  const configPath = resolve(options.cwd, options.config);
  const config = existsSync(configPath) ? loadConfig(configPath, options.cwd).config : undefined;
  const configMetric = config?.research?.metric;
  const table = parseResultsTsv(readFileSync(path, 'utf8'), {
    file: basename(path),
    ...(options.metric ? { metric: options.metric } : configMetric && columnsOf(path).includes(configMetric.name) ? { metric: configMetric.name } : {}),
  });
  const goal = chooseGoal(options.goal, table.metric, configMetric);

  const repo = await StudyRepository.open(options.cwd);
  const history = await readBranchHistory(repo.root, table.rows, options.branch ? { branch: options.branch } : {});
  const name = options.name ?? defaultName(history.branch);
  if (!STUDY_NAME.test(name)) {
    throw new ConfigError([{ path: '--name', message: `${JSON.stringify(name)} is not a study name: lowercase letters, digits, . _ - (e.g. autoresearch-mar5)` }]);
  }
  await repo.ignoreStateDir();
  const ledger = Ledger.open(join(repo.stateDir, 'ledger.db'));
  try {
    const study = importStudy(ledger, {
      name,
      goal,
      table,
      history,
      source: basename(path),
      ...(config?.raw.research ? { research: config.raw.research as unknown as Record<string, unknown> } : {}),
    });
    // Counted from the rows just recorded (one trial each, in order): re-reading 20,000 trials would double the import's time.
    const counts = new Map<string, number>();
    for (const row of table.rows) counts.set(row.status, (counts.get(row.status) ?? 0) + 1);
    const best = study.bestTrialId === null ? undefined : ledger.trial(study.bestTrialId);
    out.write(`imported ${table.rows.length} experiments from ${basename(path)} as study "${name}"${history.branch ? ` (branch ${history.branch})` : ''}\n`);
    out.write(`  ${[...counts].map(([status, count]) => `${count} ${status}`).join(', ')}; ${goal} ${table.metric}`);
    out.write(best ? `, best ${formatMetric(best.metric)} at #${best.seq} (baseline ${formatMetric(table.rows[0]?.metric)})\n` : '\n');
    const missing = table.rows.filter((row) => !history.commits.has(row.commit));
    if (missing.length > 0) out.write(`  ${missing.length} commit${missing.length === 1 ? ' is' : 's are'} no longer in git (discarded and collected): recorded without a diff\n`);
    if (history.unlisted.length > 0) out.write(`  note: ${history.unlisted.length} commit${history.unlisted.length === 1 ? '' : 's'} on ${history.branch} ${history.unlisted.length === 1 ? 'is' : 'are'} not in ${basename(path)}: ${history.unlisted.slice(0, 5).map((commit) => commit.slice(0, 7)).join(', ')}\n`);
    if (history.keptOffBranch.length > 0) out.write(`  note: kept commits not on ${history.branch} (the run was rewound): ${history.keptOffBranch.map((commit) => commit.slice(0, 7)).join(', ')}\n`);
    out.write(`next: strata status --study ${name}   ·   strata serve\n`);
    return 0;
  } finally {
    ledger.close();
  }
}

function columnsOf(path: string): string[] {
  const header = readFileSync(path, 'utf8').split(/\r?\n/).find((line) => line.trim() !== '') ?? '';
  return header.split('\t').map((cell) => cell.trim());
}

function chooseGoal(option: string | undefined, metric: string, configMetric: { name: string; goal: MetricGoal } | undefined): MetricGoal {
  if (option !== undefined) {
    if (option !== 'minimize' && option !== 'maximize') throw new ConfigError([{ path: '--goal', message: `expected minimize or maximize, got ${JSON.stringify(option)}` }]);
    return option;
  }
  if (configMetric?.name === metric) return configMetric.goal;
  const guessed = goalFromName(metric);
  if (guessed) return guessed;
  throw new ConfigError([{ path: '--goal', message: `cannot tell whether a lower or higher ${metric} is better: pass --goal minimize or --goal maximize` }]);
}

/** `autoresearch/mar5` → `autoresearch-mar5`. */
function defaultName(branch: string | null): string {
  if (branch === null) return 'imported';
  return branch.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '').replace(/-+$/, '') || 'imported';
}
