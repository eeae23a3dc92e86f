import type { Ledger } from '../ledger/ledger.ts';
import type { StudyRecord, TrialRecord } from '../ledger/records.ts';
import { improvement, type MetricGoal } from '../core/trial.ts';
import { schedulingSummaryOf, type SchedulingSummary } from './duty-cycle.ts';
import { guidanceChanges, type GuidanceChange } from '../oversight/guidance-changes.ts';

export interface TrialRow {
  id: number;
  seq: number;
  status: TrialRecord['status'];
  metric: number | null;
  metrics: Record<string, number> | null;
  /** metric − the best metric when the trial ran (raw difference; its sign means better or worse by the goal). */
  delta: number | null;
  description: string;
  commit: string | null;
  parent_commit: string | null;
  duration_s: number | null;
  proposer: string;
  reason: string | null;
  peak_memory_mb: number | null;
  attempt: number;
  /** baseline, candidate (full budget) or screen (short budget, never kept). */
  role: TrialRecord['role'];
  /** The slot it ran on (`slot-0`, …) and the external job id (SLURM), when any. */
  slot: string | null;
  external_id: string | null;
  /** The sealed holdout metric, measured when this trial became the best; null otherwise. Never shown to proposers. */
  holdout: number | null;
}

/** The study at a glance: the document `strata status --json` prints. */
export interface StudySummary {
  /** `secondary`: the metrics recorded beside the main one (research.metric.secondary), shown as columns. */
  study: { name: string; kind: string; state: string; branch: string | null; stop_reason: string | null; metric: string; goal: MetricGoal; secondary: string[] };
  best:
    | {
        trial: number;
        commit: string | null;
        metric: number | null;
        metrics: Record<string, number> | null;
        /** The sealed holdout metric of the best, and holdout − validation: a gap that grows means the study is fitting the validation split. */
        holdout: number | null;
        holdout_gap: number | null;
        /** The last re-run of the incumbent: does it still beat the best it replaced? */
        recheck: { still_better: boolean; reason: string } | null;
      }
    | null;
  /** The acceptance rule the study runs under. */
  acceptance: string | null;
  baseline: { trial: number; commit: string | null; metric: number | null; metrics: Record<string, number> | null } | null;
  improvement: number | null;
  counts: Record<string, number>;
  total_time_s: number;
  /** USD spent on model calls so far (agent, checks); 0 without an LLM. */
  spend_usd: number;
  /** Slots, and the fraction of slot-time spent running trials. */
  scheduling: SchedulingSummary;
  /** Where the program file or the active notes changed between two proposals (each trial records what it was proposed under). */
  guidance_changes: GuidanceChange[];
  trials: TrialRow[];
  running: (TrialRow & { started_at: string | null; elapsed_s: number | null; budget_s: number | null; decision_pending: boolean })[];
}

/** A trial as a row of the summary's table; `holdouts` are the study's sealed results by trial id. */
export function summaryTrialRow(trial: TrialRecord, holdouts: ReadonlyMap<number, { metric: number | null }>): TrialRow {
  return {
    id: trial.id,
    seq: trial.seq,
    status: trial.status,
    metric: trial.metric,
    metrics: trial.metrics,
    delta: trial.metric !== null && trial.bestBefore !== null ? trial.metric - trial.bestBefore : null,
    description: trial.description,
    commit: trial.keptCommit ?? trial.candidateCommit,
    parent_commit: trial.parentCommit,
    duration_s: trial.wallMs === null ? null : trial.wallMs / 1000,
    proposer: trial.proposer,
    reason: trial.statusReason,
    peak_memory_mb: trial.peakRssKb === null ? null : Math.round(trial.peakRssKb / 1024),
    attempt: trial.attempt,
    role: trial.role,
    slot: trial.slot,
    external_id: trial.externalId,
    holdout: holdouts.get(trial.id)?.metric ?? null,
  };
}

/** Build the summary of a research study from the ledger, with every finished trial in `trials`. */
export function summarizeStudy(ledger: Ledger, study: StudyRecord, now = Date.now()): StudySummary {
  return summarizeStudyWith(ledger, study, (row) => ledger.trials(study.id).filter((trial) => trial.status !== 'running' && trial.status !== 'queued').map(row), now);
}

/**
 * The summary with the finished trials `rows` picks (all of them, or only
 * those `strata status` shows of a long study). Everything else is read as
 * counts and sums, and the few rows it names (best, baseline, running), so
 * a study of 20,000 trials costs what its shown rows cost.
 */
export function summarizeStudyWith(ledger: Ledger, study: StudyRecord, rows: (row: (trial: TrialRecord) => TrialRow) => TrialRow[], now = Date.now()): StudySummary {
  const metric = (study.config as { research?: { metric?: { name?: string; goal?: MetricGoal; secondary?: (string | { name: string })[] } } }).research?.metric;
  const goal: MetricGoal = metric?.goal ?? 'minimize';
  const holdouts = ledger.research.holdoutResults(study.id);
  const holdoutOf = (trial: TrialRecord) => holdouts.get(trial.id)?.metric ?? null;
  const toRow = (trial: TrialRecord): TrialRow => summaryTrialRow(trial, holdouts);
  const queries = ledger.trialQueries;
  const bestRecord = study.bestTrialId === null ? undefined : queries.byIds([study.bestTrialId])[0];
  const best = bestRecord?.studyId === study.id ? bestRecord : undefined;
  const baseline = queries.baseline(study.id);
  const counts = queries.counts(study.id);
  const times = queries.wallTimes(study.id);
  const busyMs = times.startedWallMs + times.unmeasured.reduce((sum, run) => sum + Math.max(0, (run.endedAt === null ? now : Date.parse(run.endedAt)) - Date.parse(run.startedAt)), 0);
  const point = (trial: TrialRecord | undefined) =>
    trial ? { trial: trial.seq, commit: trial.keptCommit ?? trial.candidateCommit, metric: trial.metric, metrics: trial.metrics } : null;
  return {
    study: {
      name: study.name,
      kind: study.kind,
      state: study.state,
      branch: study.branch,
      stop_reason: study.stopReason,
      metric: metric?.name ?? 'metric',
      secondary: (metric?.secondary ?? []).map((entry) => (typeof entry === 'string' ? entry : entry.name)),
      goal,
    },
    best: best
      ? {
          ...point(best)!,
          holdout: holdoutOf(best),
          holdout_gap: holdoutOf(best) !== null && best.metric !== null ? holdoutOf(best)! - best.metric : null,
          recheck: best.meta?.recheck ? { still_better: Boolean((best.meta.recheck as { stillBetter: boolean }).stillBetter), reason: String((best.meta.recheck as { reason: string }).reason) } : null,
        }
      : null,
    acceptance: ledger.research.acceptanceRule(study.id) ?? null,
    baseline: point(baseline),
    improvement: best?.metric != null && baseline?.metric != null ? improvement(best.metric, baseline.metric, goal) : null,
    counts,
    total_time_s: times.finishedWallMs / 1000,
    spend_usd: ledger.llm.spentUsd(study.id),
    scheduling: schedulingSummaryOf(ledger.eventLog.sessionMarks(study.id), busyMs, study, now),
    guidance_changes: guidanceChanges(ledger.oversight.guidanceStamps(study.id)),
    trials: rows(toRow),
    running: queries.live(study.id).map((trial) => ({
      ...toRow(trial),
      started_at: trial.startedAt,
      elapsed_s: trial.startedAt ? (now - Date.parse(trial.startedAt)) / 1000 : null,
      budget_s: trial.budgetMs === null ? null : trial.budgetMs / 1000,
      // Its run finished and was measured; the decision (reruns, confirmations) is pending and resumes with the study.
      decision_pending: trial.status === 'running' && trial.measuredAt !== null,
    })),
  };
}
