import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDuration } from '../core/duration.ts';
import { BudgetExhaustedError } from '../core/errors.ts';
import { candidateHash, jsonHash } from '../evolve/content-hash.ts';
import type { Evaluate, EvaluationResult, ReflectiveRecord } from '../evolve/types.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { StudyRecord } from '../ledger/records.ts';
import { LlmUnavailableError } from '../llm/errors.ts';
import { runResearch } from '../research/run-research.ts';
import { summarizeStudy } from '../research/study-summary.ts';
import type { StudyRepository } from '../workspace/study-repository.ts';
import { commitFiles } from './commit-files.ts';
import { EVALUATION_HASH_LENGTH, evaluationStudyName } from './evaluation-study-name.ts';
import { evaluationConfig, type PipelineConfig, type PipelineStage, type ResearchExample } from './pipeline-config.ts';
import type { PipelineObserver } from './pipeline-observer.ts';
import { researchFeedback, researchScore, trialTable } from './research-feedback.ts';

export interface ResearchEvaluatorOptions {
  pipeline: PipelineConfig;
  stage: PipelineStage;
  repo: StudyRepository;
  ledgerPath: string;
  /** The commit every evaluation starts from, before the candidate's components are written. */
  baseline: string;
  /** Component → repository-relative file it is written to in the evaluation's starting commit. */
  componentFiles: Record<string, string>;
  /** The stage's folder under .strata/pipelines (programs, scratch checkouts). */
  workDir: string;
  /** The stage's USD cap and what it has spent so far; each evaluation's agent gets at most what is left. */
  usd?: { cap: number; spent: () => number };
  observer?: PipelineObserver;
}

/**
 * Each evaluation of a candidate on an example is a short research study,
 * `<pipeline>/<stage>/<candidate>-<example>`: its components are written to
 * their files on the baseline in a fresh worktree and committed (the study's
 * starting commit), the agent follows the candidate's program, and the trials
 * run with the example's seed and environment. The score is the relative
 * improvement over the study's own baseline in [0, 1]; the feedback is the
 * trial table and crash logs. A finished study is read back, not rerun (so
 * the same candidate on the same example costs trials once, whichever split
 * asks), and an unfinished one resumes.
 *
 * @example
 * const { evaluate, version, reflectiveRecord } = createResearchEvaluator({ pipeline, stage, repo, ledgerPath, baseline, componentFiles, workDir });
 */
export function createResearchEvaluator(options: ResearchEvaluatorOptions): {
  evaluate: Evaluate<ResearchExample>;
  version: string;
  reflectiveRecord: (example: ResearchExample, result: EvaluationResult) => ReflectiveRecord;
} {
  const { pipeline, stage } = options;
  const evaluator = stage.evaluator!;
  const budgetS = (parseDuration(evaluator.budget ?? pipeline.config.raw.research!.budget) ?? 0) / 1000;

  const evaluate: Evaluate<ResearchExample> = async (candidate, example, context) => {
    const hash = candidateHash(candidate).slice(0, EVALUATION_HASH_LENGTH);
    const name = evaluationStudyName(stage.study, hash, example.id);
    const info = { stage: stage.name, study: name, example: example.id, candidate: hash };
    const existing = context.study.ledger.studyByName(name);
    if (!existing || !isFinished(existing)) {
      options.observer?.evaluationStarted?.({ ...info, resumed: existing !== undefined });
      const base = existing?.baseCommit ?? (await startingCommit(options, candidate, hash, example.id));
      const programPath = writeProgram(options, candidate, hash);
      const left = options.usd ? options.usd.cap - options.usd.spent() : undefined;
      // llm.max_usd 0 means no cap, so a spent stage budget must stop here (the engine then stops with reason usd).
      if (left !== undefined && left <= 0) {
        throw new BudgetExhaustedError(`stage ${stage.name} has spent its USD budget ($${options.usd!.cap}, evolve.budget.usd); raise it to evaluate more programs`, { capUsd: options.usd!.cap, stage: stage.name });
      }
      const config = evaluationConfig(pipeline, stage, { name, example, ...(programPath ? { programPath } : {}), ...(left !== undefined ? { maxUsd: left } : {}) });
      const summary = await runResearch({
        configPath: pipeline.configPath,
        config,
        ledgerPath: options.ledgerPath,
        baseCommit: base,
        signal: context.signal,
        ...(options.observer?.evaluationResearch ? { observer: options.observer.evaluationResearch } : {}),
      });
      if (context.signal.aborted) throw context.signal.reason ?? new Error('stopped');
      const state = context.study.ledger.studyByName(name)!;
      if (!isFinished(state)) {
        // The agent's model is out: stop the stage (resumable) rather than score a program on trials it never got.
        throw new LlmUnavailableError(`evaluation ${name} paused: ${summary.study.stop_reason ?? 'no reason'}; run the pipeline again to resume it`, {
          model: pipeline.config.llm?.model.name ?? 'unknown',
          role: 'agent',
          attempts: 0,
        });
      }
    }
    const result = readEvaluation(context.study.ledger, name, example, budgetS);
    options.observer?.evaluationFinished?.({ ...info, score: result.score, trials: result.trials, state: result.state, cached: existing !== undefined && isFinished(existing) });
    return result.evaluation;
  };

  const version = jsonHash({
    kind: 'research',
    evaluator,
    research: pipeline.config.raw.research,
    model: pipeline.config.raw.llm?.model ?? null,
    baseline: options.baseline,
    files: options.componentFiles,
  });
  const reflectiveRecord = (example: ResearchExample, result: EvaluationResult): ReflectiveRecord => {
    const trace = (result.trace ?? {}) as { trials?: string };
    return {
      Example: describeExample(example),
      'Experiments the agent ran': trace.trials ?? '(none)',
      Score: result.score,
      Feedback: result.feedback ?? '(no feedback)',
    };
  };
  return { evaluate, version, reflectiveRecord };
}


/**
 * Did an evaluation study end for good? Done, failed because its baseline
 * broke (the candidate's components can break it), or paused by the loop
 * itself (proposals kept failing: the program's fault as much as anything).
 * Paused by the user or a model outage, or failed on an error: it resumes.
 */
export function isFinished(study: StudyRecord): boolean {
  if (study.state === 'done') return true;
  if (study.state === 'failed') return study.stopCause === 'baseline-failed';
  return study.state === 'paused' && study.stopCause !== 'user' && study.stopCause !== 'model-unavailable' && study.stopCause !== 'error' && study.stopCause !== 'branch-moved';
}

/** The score, feedback and trace of a finished evaluation study, from the ledger alone. */
function readEvaluation(ledger: Ledger, name: string, example: ResearchExample, budgetS: number): { evaluation: EvaluationResult; score: number; trials: number; state: string } {
  const study = ledger.studyByName(name)!;
  const summary = summarizeStudy(ledger, study);
  const { score, relative } = researchScore(summary);
  const trials = ledger.trials(study.id);
  return {
    evaluation: {
      score,
      feedback: researchFeedback({ summary, trials, example: describeExample(example), budgetS }),
      trace: { study: name, state: summary.study.state, baseline: summary.baseline?.metric ?? null, best: summary.best?.metric ?? null, relative, trials: trialTable(summary) },
    },
    score,
    trials: summary.trials.length,
    state: summary.study.state,
  };
}

/** The baseline with the candidate's components in their files, committed in a scratch worktree. */
async function startingCommit(options: ResearchEvaluatorOptions, candidate: Readonly<Record<string, string>>, hash: string, exampleId: string): Promise<string> {
  const files: Record<string, string> = {};
  for (const [component, path] of Object.entries(options.componentFiles)) {
    const text = candidate[component];
    if (text !== undefined) files[path] = text;
  }
  return commitFiles(options.repo, {
    base: options.baseline,
    files,
    message: `strata pipeline ${options.pipeline.name}: candidate ${hash} of stage ${options.stage.name}\n\nComponents: ${Object.keys(files).join(', ') || '(none with a file)'}`,
    scratch: join(options.workDir, 'scratch', `${hash}-${exampleId}`),
  });
}

/** The candidate's program as a file the agent reads (content-addressed, so a rerun writes the same file). */
function writeProgram(options: ResearchEvaluatorOptions, candidate: Readonly<Record<string, string>>, hash: string): string | undefined {
  const component = options.stage.evaluator!.programComponent;
  if (component === undefined) return undefined;
  const dir = join(options.workDir, 'programs');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${hash}.md`);
  writeFileSync(path, `${candidate[component] ?? ''}\n`);
  return path;
}

function describeExample(example: ResearchExample): string {
  const parts = [`example ${example.id}`];
  if (example.seed !== undefined) parts.push(`seed ${example.seed}`);
  const env = Object.entries(example.env);
  if (env.length > 0) parts.push(env.map(([key, value]) => `${key}=${value}`).join(' '));
  return parts.join(', ');
}
