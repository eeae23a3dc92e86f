import { improvement, type MetricGoal } from '../../core/trial.ts';
import type { StudyRecord, TrialRecord } from '../../ledger/records.ts';
import type { LedgerReader } from '../../ledger/ledger-reader.ts';
import { describeGuidanceChange, guidanceChanges, type GuidanceChange } from '../../oversight/guidance-changes.ts';

/** A sealed holdout result as the reader returns it. */
type HoldoutRecord = { status: string; metric: number | null; reason: string | null };
import { progressSeries, type ProgressSeries } from './progress-series.ts';
import { studyHeader, type StudyHeader } from './study-header.ts';

/** One trial as the study page's table and chart show it. */
export interface ResearchTrialView {
  id: number;
  seq: number;
  role: string;
  status: string;
  metric: number | null;
  /** The sealed holdout metric, when the study measures one for this trial. */
  holdout: number | null;
  /** Warnings the integrity layer recorded (a suspect first measurement, a failed re-check of a keep, a holdout that did not run) and a veto with its reason. */
  flags: string[];
  /** A kept change that can be vetoed (not the baseline, not vetoed already). */
  vetoable: boolean;
  /** metric − the best metric when the trial ran (raw; `better` says which way is good). */
  delta: number | null;
  better: boolean | null;
  best_before: number | null;
  description: string;
  proposer: string;
  reason: string | null;
  commit: string | null;
  parent_commit: string | null;
  duration_s: number | null;
  usd: number;
  slot: string | null;
  attempt: number;
  started_at: string | null;
  ended_at: string | null;
  peak_memory_mb: number | null;
}

/** A trial still running (or queued), with how long it has run. */
export interface RunningTrialView extends ResearchTrialView {
  elapsed_s: number | null;
  budget_s: number | null;
}

/** Everything the research study page shows, as one JSON document. */
export interface ResearchView {
  kind: 'research';
  study: StudyHeader;
  metric: { name: string; goal: MetricGoal };
  best: ResearchTrialView | null;
  baseline: ResearchTrialView | null;
  /** Relative improvement of the best over the baseline in percent, positive when better. */
  improvement_pct: number | null;
  counts: Record<string, number>;
  trials: ResearchTrialView[];
  running: RunningTrialView[];
  progress: ProgressSeries;
  has_holdout: boolean;
  /** Share of the slots' time spent running trials (the rest went to proposals and overhead). */
  duty: { fraction: number; busy_s: number; span_s: number; slots: number } | null;
  spend: { usd: number; calls: number; by_role: { role: string; calls: number; usd: number }[] };
  total_time_s: number;
  /** Where the program file or the active notes changed between two proposals, with the change in words. */
  guidance_changes: (GuidanceChange & { text: string })[];
}

/** The metric a research study optimizes, from its stored config. */
export function researchMetric(study: StudyRecord): { name: string; goal: MetricGoal } {
  const metric = (study.config as { research?: { metric?: { name?: string; goal?: MetricGoal } } } | null)?.research?.metric;
  return { name: metric?.name ?? 'metric', goal: metric?.goal ?? 'minimize' };
}

/**
 * The holdout metric of a trial, wherever the integrity layer put it: a
 * `holdout` (or `holdout_<metric>`) entry in its metrics, or `meta.holdout`.
 */
export function holdoutOf(trial: TrialRecord, metricName: string): number | null {
  const fromMetrics = trial.metrics?.holdout ?? trial.metrics?.[`holdout_${metricName}`];
  if (typeof fromMetrics === 'number') return fromMetrics;
  const meta = trial.meta?.holdout;
  if (typeof meta === 'number') return meta;
  if (meta && typeof meta === 'object') {
    const value = (meta as { metric?: unknown; value?: unknown }).metric ?? (meta as { value?: unknown }).value;
    if (typeof value === 'number') return value;
  }
  return null;
}

const LIVE = new Set(['queued', 'running']);

/** A trial as a row of the study table. */
export function trialRow(trial: TrialRecord, metric: { name: string; goal: MetricGoal }, usd: number, holdout?: HoldoutRecord): ResearchTrialView {
  const delta = trial.metric !== null && trial.bestBefore !== null ? trial.metric - trial.bestBefore : null;
  const flags: string[] = [];
  const acceptance = trial.meta?.acceptance as { suspect?: unknown } | undefined;
  if (typeof acceptance?.suspect === 'string' && acceptance.suspect) flags.push(`suspect: ${acceptance.suspect}`);
  const recheck = trial.meta?.recheck as { stillBetter?: unknown; reason?: unknown } | undefined;
  if (recheck?.stillBetter === false) flags.push(`re-check: no longer beats its parent${typeof recheck.reason === 'string' ? ` (${recheck.reason})` : ''}`);
  if (holdout && holdout.status !== 'measured') flags.push(`holdout ${holdout.status}${holdout.reason ? `: ${holdout.reason}` : ''}`);
  const veto = trial.meta?.veto as { reason?: unknown } | undefined;
  if (veto && typeof veto === 'object') flags.push(`vetoed: ${typeof veto.reason === 'string' ? veto.reason : 'no reason given'}`);
  return {
    id: trial.id,
    seq: trial.seq,
    role: trial.role,
    status: trial.status,
    metric: trial.metric,
    holdout: holdout?.metric ?? holdoutOf(trial, metric.name),
    flags,
    vetoable: trial.status === 'keep' && trial.role !== 'baseline' && veto === undefined,
    delta,
    better: delta === null ? null : improvement(trial.metric!, trial.bestBefore!, metric.goal) > 0,
    best_before: trial.bestBefore,
    description: trial.description,
    proposer: trial.proposer,
    reason: trial.statusReason,
    commit: trial.keptCommit ?? trial.candidateCommit,
    parent_commit: trial.parentCommit,
    duration_s: trial.wallMs === null ? null : trial.wallMs / 1000,
    usd,
    slot: trial.slot,
    attempt: trial.attempt,
    started_at: trial.startedAt,
    ended_at: trial.endedAt,
    peak_memory_mb: trial.peakRssKb === null ? null : Math.round(trial.peakRssKb / 1024),
  };
}

/**
 * Build the research study page's data from the ledger.
 *
 * @example
 * const view = researchView(reader, reader.studyByName('tiny-lm')!);
 * view.progress.points === view.trials.length; // true
 */
export function researchView(reader: LedgerReader, study: StudyRecord, now = Date.now()): ResearchView {
  const metric = researchMetric(study);
  const records = reader.trials(study.id);
  const usd = reader.usdBy(study.id, 'trial_id');
  const holdouts = reader.holdouts(study.id);
  const toView = (trial: TrialRecord) => trialRow(trial, metric, usd.get(trial.id) ?? 0, holdouts.get(trial.id));
  const finished = records.filter((trial) => !LIVE.has(trial.status)).map(toView);
  const running = records
    .filter((trial) => LIVE.has(trial.status))
    .map((trial) => ({
      ...toView(trial),
      elapsed_s: trial.startedAt ? Math.max(0, (now - Date.parse(trial.startedAt)) / 1000) : null,
      budget_s: trial.budgetMs === null ? null : trial.budgetMs / 1000,
    }));
  const best = study.bestTrialId === null ? null : (finished.find((trial) => trial.id === study.bestTrialId) ?? null);
  const baseline = finished.find((trial) => trial.role === 'baseline' && trial.status === 'keep') ?? null;
  const counts: Record<string, number> = {};
  for (const trial of records) counts[trial.status] = (counts[trial.status] ?? 0) + 1;
  const byRole = reader.spendByRole(study.id);
  return {
    kind: 'research',
    study: studyHeader(study, now),
    metric,
    best,
    baseline,
    improvement_pct:
      best?.metric != null && baseline?.metric != null && baseline.metric !== 0
        ? (improvement(best.metric, baseline.metric, metric.goal) / Math.abs(baseline.metric)) * 100
        : null,
    counts,
    trials: finished,
    running,
    progress: progressSeries(finished),
    has_holdout: finished.some((trial) => trial.holdout !== null),
    duty: dutyCycle(records, study.state === 'running' ? now : undefined, runningWindows(reader.events(study.id, ['study.created', 'study.state_changed']), study.state === 'running' ? now : undefined)),
    spend: {
      usd: byRole.reduce((sum, role) => sum + role.usd, 0),
      calls: byRole.reduce((sum, role) => sum + role.calls, 0),
      by_role: byRole.map((role) => ({ role: role.role, calls: role.calls, usd: role.usd })),
    },
    total_time_s: finished.reduce((sum, trial) => sum + (trial.duration_s ?? 0), 0),
    guidance_changes: guidanceChanges(reader.guidanceStamps(study.id)).map((change) => ({ ...change, text: describeGuidanceChange(change) })),
  };
}

/** Spans of wall time in which the study was running, from its state events (a paused night is not idle time). */
export function runningWindows(events: readonly { type: string; payload: unknown; createdAt: string }[], now?: number): [number, number][] {
  const windows: [number, number][] = [];
  let start: number | undefined;
  for (const event of events) {
    const at = Date.parse(event.createdAt);
    const state = event.type === 'study.created' ? 'running' : (event.payload as { state?: string } | null)?.state;
    if (state === 'running') start ??= at;
    else if (start !== undefined) {
      windows.push([start, at]);
      start = undefined;
    }
  }
  if (start !== undefined && now !== undefined) windows.push([start, now]);
  return windows;
}

/**
 * Busy time of the executor slots over the time the study ran: the sum of
 * trial run times over (running time × slots). Without state events, the
 * span runs from the first start to the last end (or now).
 */
export function dutyCycle(trials: readonly TrialRecord[], now?: number, windows?: readonly [number, number][]): ResearchView['duty'] {
  const runs = trials.filter((trial) => trial.startedAt !== null);
  if (runs.length === 0) return null;
  const start = Math.min(...runs.map((trial) => Date.parse(trial.startedAt!)));
  const ends = runs.map((trial) => (trial.endedAt ? Date.parse(trial.endedAt) : (now ?? Date.parse(trial.startedAt!))));
  const end = Math.max(now ?? 0, ...ends);
  const busy = runs.reduce((sum, trial, index) => sum + Math.max(0, ends[index]! - Date.parse(trial.startedAt!)), 0);
  const slots = Math.max(1, new Set(runs.map((trial) => trial.slot ?? 'default')).size);
  const span = windows && windows.length ? windows.reduce((sum, [from, to]) => sum + Math.max(0, to - from), 0) : end - start;
  if (span <= 0) return null;
  return { fraction: Math.min(1, busy / (span * slots)), busy_s: busy / 1000, span_s: span / 1000, slots };
}
