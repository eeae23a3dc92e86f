import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { StudyConfig } from '../core/config/parse-config.ts';
import { requireSection } from '../core/config/require-section.ts';
import { ConfigError, type ConfigIssue } from '../core/errors.ts';
import { checkEvolveOversight } from '../oversight/evolve-oversight.ts';
import { createCommandEvaluator } from './evaluators/command-evaluator.ts';
import { loadJsonl, type DatasetExample } from './evaluators/jsonl-dataset.ts';
import { createTemplateEvaluator } from './evaluators/template-evaluator.ts';
import { engineOptionsFromConfig } from './config-engine-options.ts';
import { optimize, type OptimizeResult } from './optimize.ts';
import type { Evaluate, EvolveProgress, StudyBinding } from './types.ts';
import { stateDirFor } from '../workspace/state-dir.ts';

export interface EvolveStudyRun {
  result: OptimizeResult;
  ledgerPath: string;
  /** Where the best candidate's components were written, one `<component>.txt` each. */
  bestDir: string;
  /** Create this file to stop the run after the current iteration. */
  stopFile: string;
}

/**
 * Run (or resume) the evolve study a config describes: read the seed files
 * and JSONL data relative to the config, build the evaluator (prompt
 * template + task model + metric, or a command), check every model with one
 * cheap call, evolve, and write the best components to
 * `.strata/<study>/best/<component>.txt`. The ledger is the repository's
 * `.strata/ledger.db` (the config's folder when it is not in a repository).
 *
 * @example
 * const { result, bestDir } = await runEvolveStudy({ configPath, config, signal, onProgress: console.log });
 */
export async function runEvolveStudy(options: {
  configPath: string;
  config: StudyConfig;
  signal?: AbortSignal;
  onProgress?: (progress: EvolveProgress) => void;
  env?: NodeJS.ProcessEnv;
}): Promise<EvolveStudyRun> {
  const { config } = options;
  requireSection(config, 'evolve', options.configPath);
  const evolve = config.evolve!;
  const baseDir = dirname(resolve(options.configPath));
  const at = (path: string) => resolve(baseDir, path);

  const issues: ConfigIssue[] = [];
  const seed: Record<string, string> = {};
  for (const [name, file] of Object.entries(evolve.seedFiles)) {
    try {
      seed[name] = readFileSync(at(file), 'utf8').trimEnd();
    } catch (error) {
      issues.push({ path: `evolve.seed.${name}`, message: `cannot read ${at(file)}: ${(error as Error).message}` });
    }
  }
  let reflectionPrompt: string | undefined;
  if (evolve.reflection.promptFile) {
    try {
      reflectionPrompt = readFileSync(at(evolve.reflection.promptFile), 'utf8');
    } catch (error) {
      issues.push({ path: 'evolve.reflection.prompt', message: `cannot read ${at(evolve.reflection.promptFile)}: ${(error as Error).message}` });
    }
  }
  if (issues.length > 0) throw new ConfigError(issues, options.configPath);
  // Checked with the config when the file has no research section; a file with both is checked here, where it runs as evolve.
  checkEvolveOversight(config.oversight, evolve.data.test !== undefined, (condition) => `oversight.pause_on.${condition}`, options.configPath);
  const trainset = loadJsonl(at(evolve.data.train), 'evolve.data.train');
  const valset = loadJsonl(at(evolve.data.val), 'evolve.data.val');
  const testset = evolve.data.test ? loadJsonl(at(evolve.data.test), 'evolve.data.test') : undefined;

  const llm = { ...(config.llm ? { timeoutMs: config.llm.timeoutMs, maxRetries: config.llm.maxRetries } : {}), ...(options.env ? { env: options.env } : {}) };
  let evaluate: Evaluate<DatasetExample>;
  let version: string;
  let check: ((study: StudyBinding, signal?: AbortSignal) => Promise<void>) | undefined;
  if (evolve.metric.kind === 'command') {
    ({ evaluate, version } = createCommandEvaluator({ command: evolve.metric.command, cwd: baseDir, timeoutMs: evolve.metric.timeoutMs }));
  } else {
    ({ evaluate, version, check } = createTemplateEvaluator({ taskModel: evolve.taskModel!, metric: evolve.metric, template: evolve.template, task: evolve.task, llm }));
  }

  const stateDir = stateDirFor(baseDir);
  const ledgerPath = join(stateDir, 'ledger.db');
  const studyDir = join(stateDir, config.name);
  const stopFile = join(studyDir, 'stop');
  mkdirSync(studyDir, { recursive: true });

  const result = await optimize<DatasetExample>({
    seed,
    trainset,
    valset,
    ...(testset ? { testset } : {}),
    evaluate,
    evaluatorVersion: version,
    reflectionModel: evolve.reflectionModel,
    budget: evolve.budget,
    ...engineOptionsFromConfig(evolve),
    reflection: { ...(reflectionPrompt !== undefined ? { prompt: reflectionPrompt } : {}), maxOutputTokens: evolve.reflection.maxOutputTokens, attempts: evolve.reflection.attempts },
    ledger: ledgerPath,
    studyName: config.name,
    stopFile,
    checkModels: true,
    ...(check ? { prepare: check } : {}),
    oversight: config.oversight,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    llm,
  });

  const bestDir = join(studyDir, 'best');
  mkdirSync(bestDir, { recursive: true });
  for (const [name, text] of Object.entries(result.bestCandidate)) writeFileSync(join(bestDir, `${name}.txt`), `${text}\n`);
  return { result, ledgerPath, bestDir, stopFile };
}

