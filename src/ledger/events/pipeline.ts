/**
 * Pipeline events: a stage's start (what it received) and its end (what it
 * found and cost). Event-only facts: a pipeline's state lives in its study
 * row and its stages' studies.
 */
import type { StudyState } from '../../core/trial.ts';
import { boundNullable, TEXT_LIMITS } from '../bounded-text.ts';
import { eventOnly, type PayloadBounds, type Projections } from './projection.ts';

/** What a finished stage found: the values `${<stage>.best.…}` resolve to. */
export interface StageBest {
  /** research: the best kept commit; evolve: the stage's start commit with the best components written to their files (null when none has a file). */
  commit: string | null;
  /** research: the best metric. */
  metric: number | null;
  /** research: the baseline metric; evolve: the seed's validation mean. */
  baseline: number | null;
  /** evolve: the best validation mean. */
  score: number | null;
  /** evolve: the best candidate's components. */
  components: Record<string, string> | null;
}

/** What a stage cost, summed over its study and (evolve with a research evaluator) its evaluation studies. */
export interface StageSpend {
  /** Trials that count against max_trials (repeat runs and failed proposals do not). */
  trials: number;
  /** Every trial run, repeat runs included. */
  runs: number;
  /** Wall seconds of all trials: accelerator-seconds = this × devices per slot. */
  trialSeconds: number;
  usd: number;
  /** Evaluation studies (research evaluator); 0 otherwise. */
  evaluations: number;
  /** Metric calls of an evolve stage; null for research. */
  metricCalls: number | null;
}

export interface PipelineEvents {
  /** A stage of a pipeline began (once; a resumed stage does not repeat it). Recorded on the pipeline's own study. */
  'pipeline.stage_started': {
    studyId: number;
    stage: string;
    index: number;
    kind: 'research' | 'evolve';
    /** The stage's study, `<pipeline>/<stage>`. */
    study: string;
    /** The commit it starts from (start: or the pipeline's start). */
    startCommit: string;
    /** What its studies start from: startCommit, or the hand-off commit on top of it. */
    baseCommit: string;
    handoff: { from: string; files: Record<string, string>; commit: string } | null;
    /** References resolved for this stage, each with a short form of its value (text: first line and length; files: where it was written). */
    inputs: { reference: string; value: string; file: string | null }[];
  };
  /** A stage's study ended `done`; its best is what later stages may use. */
  'pipeline.stage_finished': {
    studyId: number;
    stage: string;
    index: number;
    study: string;
    state: StudyState;
    reason: string | null;
    best: StageBest;
    spend: StageSpend;
  };
}

export const pipelineProjections: Projections<PipelineEvents> = {
  'pipeline.stage_started': eventOnly,
  'pipeline.stage_finished': eventOnly,
};

export const pipelineBounds: PayloadBounds<PipelineEvents> = {
  'pipeline.stage_finished': (e) => ({ ...e, reason: boundNullable(e.reason, TEXT_LIMITS.reason) }),
};
