import { dirname } from 'node:path';
import type { RawConfig } from '../core/config/schema.ts';
import type { LedgerEvents } from '../ledger/events.ts';
import { Ledger } from '../ledger/ledger.ts';
import type { StudyRecord } from '../ledger/records.ts';
import { ledgerPathFor } from '../workspace/state-dir.ts';
import { summarizeStudy } from '../research/study-summary.ts';
import type { StageBest, StageSpend } from '../ledger/events.ts';
import { PLAIN_STAGE } from './pipeline-config.ts';
import { addSpend, NO_SPEND, stageBest, stageSpend } from './stage-results.ts';

/** One stage at a glance. */
export interface PipelineStageSummary {
  stage: string;
  index: number;
  kind: 'research' | 'evolve';
  study: string;
  /** The stage study's state, or `pending` before it started. */
  state: string;
  stop_reason: string | null;
  /** Where it started and what it received: hand-off commit and files, resolved references. */
  started: { start_commit: string; base_commit: string; handoff: LedgerEvents['pipeline.stage_started']['handoff']; inputs: LedgerEvents['pipeline.stage_started']['inputs'] } | null;
  /** research: the metric it optimizes. */
  metric: { name: string; goal: 'minimize' | 'maximize' } | null;
  best: StageBest | null;
  spend: StageSpend;
}

/** `strata status --json` for a pipeline, and what `strata pipeline` returns. */
export interface PipelineSummary {
  pipeline: { name: string; kind: 'pipeline'; state: string; stop_reason: string | null; start_commit: string | null; created_at: string; updated_at: string };
  stages: PipelineStageSummary[];
  totals: StageSpend;
  /** The plain research run of `--compare`, when there is one. */
  plain: { study: string; state: string; best: StageBest | null; spend: StageSpend } | null;
}

/**
 * A pipeline from the ledger alone: its stages in order with their state,
 * best, what each received (hand-off, references) and what each spent, plus
 * totals across stages.
 *
 * @example
 * const summary = summarizePipeline(ledger, ledger.studyByName('tiny-lm-pipeline')!);
 */
export function summarizePipeline(ledger: Ledger, study: StudyRecord): PipelineSummary {
  const sections = (study.config as RawConfig).pipeline ?? [];
  const events = ledger.events(study.id);
  const started = new Map<string, LedgerEvents['pipeline.stage_started']>();
  const finished = new Map<string, LedgerEvents['pipeline.stage_finished']>();
  for (const event of events) {
    if (event.type === 'pipeline.stage_started') started.set((event.payload as LedgerEvents['pipeline.stage_started']).stage, event.payload as LedgerEvents['pipeline.stage_started']);
    if (event.type === 'pipeline.stage_finished') finished.set((event.payload as LedgerEvents['pipeline.stage_finished']).stage, event.payload as LedgerEvents['pipeline.stage_finished']);
  }
  const stages = sections.map((section, index): PipelineStageSummary => {
    const kind = section.research ? 'research' : 'evolve';
    const name = `${study.name}/${section.stage}`;
    const own = ledger.studyByName(name);
    const start = started.get(section.stage);
    const metric = kind === 'research' && own ? summarizeStudy(ledger, own).study : null;
    return {
      stage: section.stage,
      index,
      kind,
      study: name,
      state: own?.state ?? 'pending',
      stop_reason: own?.stopReason ?? null,
      started: start ? { start_commit: start.startCommit, base_commit: start.baseCommit, handoff: start.handoff, inputs: start.inputs } : null,
      metric: metric ? { name: metric.metric, goal: metric.goal } : null,
      best: finished.get(section.stage)?.best ?? stageBest(ledger, kind, name),
      spend: stageSpend(ledger, kind, name),
    };
  });
  const plainStudy = ledger.studyByName(`${study.name}/${PLAIN_STAGE}`);
  return {
    pipeline: {
      name: study.name,
      kind: 'pipeline',
      state: study.state,
      stop_reason: study.stopReason,
      start_commit: study.baseCommit,
      created_at: study.createdAt,
      updated_at: study.updatedAt,
    },
    stages,
    totals: stages.reduce((sum, stage) => addSpend(sum, stage.spend), NO_SPEND),
    plain: plainStudy
      ? { study: plainStudy.name, state: plainStudy.state, best: stageBest(ledger, 'research', plainStudy.name), spend: stageSpend(ledger, 'research', plainStudy.name) }
      : null,
  };
}

/**
 * The summary of the pipeline a config file describes, read from the ledger
 * of the repository holding it; undefined when it never ran.
 *
 * @example
 * readPipelineSummary('/repo/pipeline.yaml', 'tiny-lm-pipeline')?.totals.trials;
 */
export function readPipelineSummary(configPath: string, name: string): PipelineSummary | undefined {
  const ledger = Ledger.open(ledgerPathFor(dirname(configPath)));
  try {
    const study = ledger.studyByName(name);
    return study?.kind === 'pipeline' ? summarizePipeline(ledger, study) : undefined;
  } finally {
    ledger.close();
  }
}
