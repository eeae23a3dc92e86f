import type { EvolveProgress } from '../evolve/types.ts';
import type { ResearchObserver } from '../research/research-observer.ts';
import type { LedgerEvents } from '../ledger/events.ts';
import type { StageBest, StageSpend } from '../ledger/events.ts';
import type { PipelineSummary } from './pipeline-summary.ts';

/** One evaluation of a candidate program by a short research study. */
export interface EvaluationInfo {
  stage: string;
  /** The evaluation's study, `<pipeline>/<stage>/<candidate>-<example>`. */
  study: string;
  example: string;
  /** Candidate hash (first 10 hex digits), as in the study name. */
  candidate: string;
}

/** Progress callbacks of a pipeline run; presentation lives in the CLI. All optional. */
export interface PipelineObserver {
  pipelineStarted?(info: { name: string; resumed: boolean; startCommit: string; stages: { name: string; kind: 'research' | 'evolve'; study: string; state: string | null }[] }): void;
  /** A stage begins or resumes; `started` is its start record (base commit, hand-off, resolved references). */
  stageStarted?(info: { stage: string; kind: 'research' | 'evolve'; study: string; resumed: boolean; started: LedgerEvents['pipeline.stage_started'] }): void;
  stageFinished?(info: { stage: string; study: string; state: string; reason: string | null; best: StageBest | null; spend: StageSpend }): void;
  /** A finished stage skipped on resume. */
  stageSkipped?(info: { stage: string; study: string; best: StageBest }): void;
  /** Progress of an evolve stage. */
  evolveProgress?(stage: string, progress: EvolveProgress): void;
  evaluationStarted?(info: EvaluationInfo & { resumed: boolean }): void;
  evaluationFinished?(info: EvaluationInfo & { score: number; trials: number; state: string; cached: boolean }): void;
  /** Trials of research stages. */
  research?: ResearchObserver;
  /** Trials of evaluation studies (usually quieter than `research`). */
  evaluationResearch?: ResearchObserver;
  pipelineFinished?(summary: PipelineSummary): void;
}
