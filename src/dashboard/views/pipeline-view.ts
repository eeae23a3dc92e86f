import type { RawConfig } from '../../core/config/schema.ts';
import type { StudyRecord } from '../../ledger/records.ts';
import { countsAgainstMaxTrials } from '../../research/run-research.ts';
import type { LedgerReader } from '../../ledger/ledger-reader.ts';
import { evolveView } from './evolve-view.ts';
import { researchSummaryView } from './research-summary-view.ts';
import { studyHeader, type StudyHeader } from './study-header.ts';

/** One stage on the pipeline page. */
export interface PipelineStageView {
  stage: string;
  kind: 'research' | 'evolve';
  /** Its study (a link), or null before it started. */
  study: { id: number; name: string; state: string } | null;
  /** research: best and baseline metric; evolve: best and seed validation mean. */
  result: { label: string; goal: 'minimize' | 'maximize'; best: number | null; baseline: number | null };
  /** Counted trials: its own (research) or its evaluation studies' (evolve). */
  trials: number;
  evaluations: number;
  usd: number;
  /** What it started from and received: hand-off commit and files, resolved references. */
  received: { start_commit: string; base_commit: string; handoff: { from: string; files: Record<string, string>; commit: string } | null; inputs: { reference: string; value: string; file: string | null }[] } | null;
}

/** Everything the pipeline page shows. */
export interface PipelineView {
  kind: 'pipeline';
  study: StudyHeader;
  stages: PipelineStageView[];
  totals: { trials: number; usd: number; evaluations: number };
}

interface StageStarted {
  stage: string;
  startCommit: string;
  baseCommit: string;
  handoff: { from: string; files: Record<string, string>; commit: string } | null;
  inputs: { reference: string; value: string; file: string | null }[];
}

/**
 * A pipeline as its stages, in order, each linking to its study, with its
 * result, spend, and what it received from earlier stages.
 *
 * @example
 * const view = pipelineView(reader, reader.studyByName('tiny-lm-pipeline')!);
 */
export function pipelineView(reader: LedgerReader, study: StudyRecord, now = Date.now()): PipelineView {
  const sections = (study.config as RawConfig | null)?.pipeline ?? [];
  const started = new Map<string, StageStarted>();
  for (const event of reader.events(study.id, ['pipeline.stage_started'])) started.set((event.payload as StageStarted).stage, event.payload as StageStarted);
  const all = reader.studies();
  const stages = sections.map((section): PipelineStageView => {
    const kind = section.research ? 'research' : 'evolve';
    const own = reader.studyByName(`${study.name}/${section.stage}`);
    const start = started.get(section.stage);
    const received = start ? { start_commit: start.startCommit, base_commit: start.baseCommit, handoff: start.handoff, inputs: start.inputs } : null;
    const base = { stage: section.stage, kind, study: own ? { id: own.id, name: own.name, state: own.state } : null, received } as const;
    if (!own) return { ...base, result: { label: kind === 'research' ? 'metric' : 'validation mean', goal: kind === 'research' ? 'minimize' : 'maximize', best: null, baseline: null }, trials: 0, evaluations: 0, usd: 0 };
    if (kind === 'research') {
      const view = researchSummaryView(reader, own, { now, chartPoints: 0 });
      return { ...base, result: { label: view.metric.name, goal: view.metric.goal, best: view.best?.metric ?? null, baseline: view.baseline?.metric ?? null }, trials: counted(reader, own.id), evaluations: 0, usd: view.spend.usd };
    }
    const view = evolveView(reader, own, now);
    const evaluations = all.filter((candidate) => candidate.name.startsWith(`${own.name}/`));
    const trials = evaluations.reduce((sum, evaluation) => sum + counted(reader, evaluation.id), 0);
    const usd = view.spend.usd + evaluations.reduce((sum, evaluation) => sum + reader.spendByRole(evaluation.id).reduce((total, role) => total + role.usd, 0), 0);
    return { ...base, result: { label: 'validation mean', goal: 'maximize', best: view.best?.val_mean ?? null, baseline: view.seed?.val_mean ?? null }, trials, evaluations: evaluations.length, usd };
  });
  return {
    kind: 'pipeline',
    study: studyHeader(study, now),
    stages,
    totals: stages.reduce((sum, stage) => ({ trials: sum.trials + stage.trials, usd: sum.usd + stage.usd, evaluations: sum.evaluations + stage.evaluations }), { trials: 0, usd: 0, evaluations: 0 }),
  };
}

/** Trials that count against max_trials, as the pipeline's own accounting counts them. */
function counted(reader: LedgerReader, studyId: number): number {
  return reader.trials(studyId).filter((trial) => trial.status !== 'queued' && trial.status !== 'running' && countsAgainstMaxTrials(trial)).length;
}
