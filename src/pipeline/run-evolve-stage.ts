import { readFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import type { StudyConfig } from '../core/config/parse-config.ts';
import { ConfigError, type ConfigIssue } from '../core/errors.ts';
import { engineOptionsFromConfig } from '../evolve/config-engine-options.ts';
import { optimize } from '../evolve/optimize.ts';
import { runEvolveStudy } from '../evolve/run-evolve-study.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { StudyRepository } from '../workspace/study-repository.ts';
import { pipelineDir, type PipelineConfig, type PipelineStage, type ResearchExample } from './pipeline-config.ts';
import type { PipelineObserver } from './pipeline-observer.ts';
import { createResearchEvaluator } from './research-evaluator.ts';
import { findReferences } from './stage-references.ts';
import { stageSpend } from './stage-results.ts';

export interface EvolveStageOptions {
  pipeline: PipelineConfig;
  stage: PipelineStage;
  /** The stage's config with references resolved. */
  config: StudyConfig;
  repo: StudyRepository;
  ledger: Ledger;
  /** What research evaluations start from (the stage's base commit). */
  baseline: string;
  /** `.strata/pipelines/<pipeline>/<stage>`. */
  workDir: string;
  signal: AbortSignal;
  observer?: PipelineObserver;
  env?: NodeJS.ProcessEnv;
}

/**
 * Run (or resume) an evolve stage. With data and a metric it is `strata
 * evolve` under the stage's study name; with `evaluator: {kind: research}`
 * it is `optimize` whose evaluations are short research studies, the
 * examples serving as both the reflection minibatches and the Pareto
 * validation instances. Evaluations run one at a time unless the stage sets
 * `concurrency` (each is a study with its own trials).
 */
export async function runEvolveStage(options: EvolveStageOptions): Promise<void> {
  const { pipeline, stage, config } = options;
  const evolve = config.evolve!;
  const onProgress = options.observer?.evolveProgress ? (progress: Parameters<NonNullable<PipelineObserver['evolveProgress']>>[1]) => options.observer!.evolveProgress!(stage.name, progress) : undefined;
  if (!stage.evaluator) {
    await runEvolveStudy({ configPath: pipeline.configPath, config, signal: options.signal, ...(onProgress ? { onProgress } : {}), ...(options.env ? { env: options.env } : {}) });
    return;
  }
  const seed = readSeed(pipeline, evolve.seedFiles);
  const componentFiles = evolveComponentFiles(pipeline, stage, options.repo);
  const usdCap = evolve.budget.usd;
  const { evaluate, version, reflectiveRecord } = createResearchEvaluator({
    pipeline,
    stage,
    repo: options.repo,
    ledgerPath: options.ledger.path,
    baseline: options.baseline,
    componentFiles,
    workDir: options.workDir,
    ...(usdCap !== undefined ? { usd: { cap: usdCap, spent: () => stageSpend(options.ledger, 'evolve', stage.study).usd } } : {}),
    ...(options.observer ? { observer: options.observer } : {}),
  });
  const examples: ResearchExample[] = stage.evaluator.examples;
  await optimize<ResearchExample>({
    seed,
    trainset: examples,
    valset: examples,
    evaluate,
    evaluatorVersion: version,
    reflectiveRecord,
    reflectionModel: evolve.reflectionModel,
    budget: evolve.budget,
    ...engineOptionsFromConfig(evolve),
    // Each evaluation is a study with its own trials; running several at once would share the machine's accelerators.
    concurrency: (stage.section.concurrency as number | undefined) ?? 1,
    reflection: { ...readReflectionPrompt(pipeline, evolve.reflection.promptFile), maxOutputTokens: evolve.reflection.maxOutputTokens, attempts: evolve.reflection.attempts },
    ledger: options.ledger.path,
    studyName: stage.study,
    stopFile: join(options.workDir, 'stop'),
    checkModels: true,
    // The stage's oversight (pipeline-config.ts stageOversight); its research evaluations run without: they are measurements, not studies to review.
    oversight: config.oversight,
    signal: options.signal,
    ...(onProgress ? { onProgress } : {}),
    llm: { ...(config.llm ? { timeoutMs: config.llm.timeoutMs, maxRetries: config.llm.maxRetries } : {}), ...(options.env ? { env: options.env } : {}) },
  });
}

/**
 * Component → repository-relative file, for components whose seed is a
 * file of the project (not a reference to an earlier stage): where a
 * candidate's text is written in its evaluation's starting commit, and where
 * the stage's best is written in its `best.commit`.
 */
export function evolveComponentFiles(pipeline: PipelineConfig, stage: PipelineStage, repo: StudyRepository): Record<string, string> {
  const seed = (stage.section.seed ?? {}) as Record<string, string>;
  const files: Record<string, string> = {};
  for (const [component, file] of Object.entries(seed)) {
    if (findReferences(file).length > 0) continue;
    const path = relative(repo.root, resolve(pipelineDir(pipeline), file));
    if (path.startsWith('..') || resolve(repo.root, path) !== resolve(pipelineDir(pipeline), file)) continue;
    files[component] = path.split(sep).join('/');
  }
  return files;
}

function readSeed(pipeline: PipelineConfig, seedFiles: Record<string, string>): Record<string, string> {
  const issues: ConfigIssue[] = [];
  const seed: Record<string, string> = {};
  for (const [name, file] of Object.entries(seedFiles)) {
    const path = resolve(pipelineDir(pipeline), file);
    try {
      seed[name] = readFileSync(path, 'utf8').trimEnd();
    } catch (error) {
      issues.push({ path: `evolve.seed.${name}`, message: `cannot read ${path}: ${(error as Error).message}` });
    }
  }
  if (issues.length > 0) throw new ConfigError(issues, pipeline.configPath);
  return seed;
}

function readReflectionPrompt(pipeline: PipelineConfig, file: string | undefined): { prompt?: string } {
  if (file === undefined) return {};
  const path = resolve(pipelineDir(pipeline), file);
  try {
    return { prompt: readFileSync(path, 'utf8') };
  } catch (error) {
    throw new ConfigError([{ path: 'evolve.reflection.prompt', message: `cannot read ${path}: ${(error as Error).message}` }], pipeline.configPath);
  }
}
