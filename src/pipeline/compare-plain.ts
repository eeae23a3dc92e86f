import { join } from 'node:path';
import { validateConfig } from '../core/config/parse-config.ts';
import { StudyStateError } from '../core/errors.ts';
import { hashString } from '../core/random.ts';
import { improvement, type MetricGoal } from '../core/trial.ts';
import { Ledger } from '../ledger/ledger.ts';
import type { ResearchObserver } from '../research/research-observer.ts';
import { runResearch } from '../research/run-research.ts';
import { StudyRepository } from '../workspace/study-repository.ts';
import { PLAIN_STAGE, pipelineDir, type PipelineConfig } from './pipeline-config.ts';
import type { StageSpend } from '../ledger/events.ts';
import { summarizePipeline } from './pipeline-summary.ts';
import { stageBest, stageSpend } from './stage-results.ts';

/** One side of the comparison. */
export interface ComparisonSide {
  study: string;
  baseline: number | null;
  best: number | null;
  /** Relative improvement of best over baseline (0.05 = 5% better), positive when better. */
  relative: number | null;
  spend: StageSpend;
}

/** Did the outer loop pay for itself? Plain research vs the pipeline, for the same number of trials. */
export interface PipelineComparison {
  metric: string;
  goal: MetricGoal;
  /** The models that did the work: the research agent's and each evolve stage's reflection model. */
  models: { agent: string | null; reflection: string[] };
  /** The pipeline's result is its last research stage. */
  pipeline: ComparisonSide;
  plain: ComparisonSide;
  /** Which best metric is better; `tie` when equal or either is missing. */
  winner: 'pipeline' | 'plain' | 'tie';
}

/**
 * Run (or resume) plain research with the pipeline's top-level `research:`
 * section (its own program, or the built-in one) as the study
 * `<pipeline>/plain`, from the pipeline's start commit, with max_trials set to
 * every counted trial the pipeline spent across its stages (evaluation
 * studies included) and the trial seed of the pipeline's last research stage;
 * then put the two results side by side. The pipeline must have finished.
 *
 * @example
 * const comparison = await comparePlainResearch({ pipeline });
 * console.log(comparison.winner, comparison.pipeline.best, comparison.plain.best);
 */
export async function comparePlainResearch(options: { pipeline: PipelineConfig; signal?: AbortSignal; observer?: ResearchObserver }): Promise<PipelineComparison> {
  const { pipeline } = options;
  const repo = await StudyRepository.open(pipelineDir(pipeline));
  const ledgerPath = join(repo.stateDir, 'ledger.db');
  const ledger = Ledger.open(ledgerPath);
  let totalTrials: number;
  let startCommit: string;
  let seed: number;
  try {
    const study = ledger.studyByName(pipeline.name);
    if (!study || study.kind !== 'pipeline' || study.state !== 'done') {
      throw new StudyStateError(`pipeline "${pipeline.name}" has not finished (${study?.state ?? 'not started'}): run \`strata pipeline\` to the end before comparing`, { pipeline: pipeline.name });
    }
    totalTrials = summarizePipeline(ledger, study).totals.trials;
    startCommit = study.baseCommit!;
    const last = [...pipeline.stages].reverse().find((stage) => stage.kind === 'research');
    if (!last) throw new StudyStateError(`pipeline "${pipeline.name}" has no research stage to compare with plain research`);
    // The trials' STRATA_SEED of the pipeline's research stage: both sides then measure the same noise.
    const stageConfig = ledger.studyByName(last.study)?.config as { research?: { search?: { seed?: number } } } | undefined;
    seed = stageConfig?.research?.search?.seed ?? hashString(last.study);
  } finally {
    ledger.close();
  }
  const name = `${pipeline.name}/${PLAIN_STAGE}`;
  const { raw } = pipeline.config;
  const research = { ...raw.research, max_trials: Math.max(1, totalTrials), search: { ...raw.research?.search, seed } };
  const config = validateConfig({ name, research, ...(raw.llm ? { llm: raw.llm } : {}) }, pipeline.configPath);
  await runResearch({
    configPath: pipeline.configPath,
    config,
    ledgerPath,
    baseCommit: startCommit,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.observer ? { observer: options.observer } : {}),
  });
  return readComparison(pipeline, ledgerPath);
}

/** The comparison from the ledger, once both sides have run. */
export function readComparison(pipeline: PipelineConfig, ledgerPath: string): PipelineComparison {
  const ledger = Ledger.open(ledgerPath);
  try {
    const study = ledger.studyByName(pipeline.name);
    if (!study) throw new StudyStateError(`no pipeline "${pipeline.name}" in ${ledgerPath}: run \`strata pipeline\` first`);
    const summary = summarizePipeline(ledger, study);
    const goal = pipeline.config.research?.metric.goal ?? 'minimize';
    const last = [...summary.stages].reverse().find((stage) => stage.kind === 'research');
    if (!last) throw new StudyStateError(`pipeline "${pipeline.name}" has no research stage to compare with plain research`);
    const side = (studyName: string, spend: StageSpend): ComparisonSide => {
      const best = stageBest(ledger, 'research', studyName);
      const baseline = best?.baseline ?? null;
      const value = best?.metric ?? null;
      return {
        study: studyName,
        baseline,
        best: value,
        relative: value !== null && baseline !== null && baseline !== 0 ? improvement(value, baseline, goal) / Math.abs(baseline) : null,
        spend,
      };
    };
    const plainName = `${pipeline.name}/${PLAIN_STAGE}`;
    const pipelineSide = side(last.study, summary.totals);
    const plainSide = side(plainName, stageSpend(ledger, 'research', plainName));
    const winner =
      pipelineSide.best === null || plainSide.best === null || pipelineSide.best === plainSide.best
        ? 'tie'
        : improvement(pipelineSide.best, plainSide.best, goal) > 0
          ? 'pipeline'
          : 'plain';
    const reflection = pipeline.stages.flatMap((stage) => {
      if (stage.kind !== 'evolve') return [];
      const model = (stage.section.reflection_model ?? pipeline.config.llm?.model.name) as string | { model: string } | undefined;
      return model === undefined ? [] : [typeof model === 'string' ? model : model.model];
    });
    return {
      metric: pipeline.config.research?.metric.name ?? 'metric',
      goal,
      models: { agent: pipeline.config.llm?.model.name ?? null, reflection: [...new Set(reflection)] },
      pipeline: pipelineSide,
      plain: plainSide,
      winner,
    };
  } finally {
    ledger.close();
  }
}
