import { improvement } from '../../core/trial.ts';
import type { TrialStatus } from '../../core/trial.ts';
import type { LedgerReader } from '../../ledger/ledger-reader.ts';
import type { StudyRecord, TrialRecord } from '../../ledger/records.ts';
import type { TrialPageQuery, TrialRunTimes } from '../../ledger/stores/trial-query-store.ts';
import { type ResearchTrialView, type ResearchView, researchMetric, runningWindows, trialRow } from './research-view.ts';
import { progressSeries, type ProgressSeries } from './progress-series.ts';
import { thinPoints, type ChartPoint } from './thin-points.ts';
import { studyHeader } from './study-header.ts';
import { describeGuidanceChange, guidanceChanges } from '../../oversight/guidance-changes.ts';

/** Most points the study page's chart (and the report's) draws; above it discards are thinned, never keeps or failures. */
export const CHART_POINTS = 3000;

/** The chart's columns with what its hover shows for each point, and how many finished trials it stands for. */
export interface ChartSeries extends ProgressSeries {
  description: string[];
  /** Why a trial without a usable metric ended; null elsewhere. */
  reason: (string | null)[];
  /** Finished trials in the study (points ≤ total once thinned). */
  total: number;
  thinned: boolean;
}

/**
 * The research study page without its table: headline numbers, what runs,
 * the chart (thinned past CHART_POINTS), counts and spend, read as sums and
 * counts so its cost does not grow with every trial's JSON. The table comes
 * a page at a time (researchTrialPage). `cursor` is the study's newest event:
 * `?since=cursor` later returns only the chart points that changed.
 */
export interface ResearchSummaryView extends Omit<ResearchView, 'trials' | 'progress'> {
  /** Finished trials (the table's row count). */
  finished: number;
  progress: ChartSeries | null;
  /** With `since`: the points of trials that finished or changed after that event, in order (the page merges them). */
  progress_since: { since: number; points: ChartPoint[] } | null;
  cursor: number;
  /** The table's page for the filters the request named (see trialPageQuery); null when it named none. */
  table: ResearchTrialPage | null;
}

/** A page of the study's table, with where it sits. */
export interface ResearchTrialPage {
  trials: ResearchTrialView[];
  total: number;
  page: number;
  pages: number;
  limit: number;
}

/**
 * The summary of a research study for its page (and the study list).
 *
 * @example
 * const summary = researchSummaryView(reader, study);
 * summary.finished; // 20000, while summary.progress.seq.length <= CHART_POINTS
 */
export function researchSummaryView(
  reader: LedgerReader,
  study: StudyRecord,
  /** `chartPoints: 0`: no chart (the study list); `table`: one page of the table with it. */
  options: { now?: number; since?: number; chartPoints?: number; table?: TrialPageQuery } = {},
): ResearchSummaryView {
  const now = options.now ?? Date.now();
  const queries = reader.trialQueries;
  const metric = researchMetric(study);
  const holdouts = reader.holdouts(study.id);
  const cursor = queries.lastEventId(study.id);
  const live = queries.live(study.id);
  const named = queries.byIds([study.bestTrialId, queries.baseline(study.id)?.id].filter((id): id is number => typeof id === 'number')).filter((trial) => trial.studyId === study.id);
  const usd = reader.usdBy(study.id, 'trial_id');
  const toView = (trial: TrialRecord) => trialRow(trial, metric, usd.get(trial.id) ?? 0, holdouts.get(trial.id));
  const bestRecord = named.find((trial) => trial.id === study.bestTrialId && trial.status !== 'queued' && trial.status !== 'running');
  const baselineRecord = named.find((trial) => trial.role === 'baseline' && trial.status === 'keep');
  const best = bestRecord ? toView(bestRecord) : null;
  const baseline = baselineRecord ? toView(baselineRecord) : null;
  const counts = queries.counts(study.id);
  const finished = Object.entries(counts).reduce((sum, [status, count]) => sum + (status === 'queued' || status === 'running' ? 0 : count), 0);
  const since = options.since !== undefined && options.since > 0 && options.since <= cursor ? options.since : undefined;
  const chart = options.chartPoints !== 0;
  const points = since === undefined && chart ? queries.points(study.id, metric.name) : [];
  const times = queries.runTimes(study.id);
  const byRole = reader.spendByRole(study.id);
  const running = study.state === 'running' ? now : undefined;
  return {
    kind: 'research',
    study: studyHeader(study, now),
    metric,
    best,
    baseline,
    improvement_pct:
      best?.metric != null && baseline?.metric != null && baseline.metric !== 0 ? (improvement(best.metric, baseline.metric, metric.goal) / Math.abs(baseline.metric)) * 100 : null,
    counts,
    finished,
    running: live.map((trial) => ({
      ...toView(trial),
      elapsed_s: trial.startedAt ? Math.max(0, (now - Date.parse(trial.startedAt)) / 1000) : null,
      budget_s: trial.budgetMs === null ? null : trial.budgetMs / 1000,
    })),
    progress: since === undefined && chart ? chartSeries(points, finished, options.chartPoints ?? CHART_POINTS) : null,
    progress_since: since === undefined || !chart ? null : { since, points: queries.pointsSince(study.id, metric.name, since) },
    has_holdout: [...holdouts.values()].some((result) => result.metric !== null) || points.some((point) => point.holdout !== null),
    duty: dutyOf(times, running, runningWindows(reader.events(study.id, ['study.created', 'study.state_changed']), running)),
    spend: {
      usd: byRole.reduce((sum, role) => sum + role.usd, 0),
      calls: byRole.reduce((sum, role) => sum + role.calls, 0),
      by_role: byRole.map((role) => ({ role: role.role, calls: role.calls, usd: role.usd })),
    },
    total_time_s: times.finishedWallMs / 1000,
    guidance_changes: guidanceChanges(reader.guidanceStamps(study.id)).map((change) => ({ ...change, text: describeGuidanceChange(change) })),
    cursor,
    table: options.table ? researchTrialPage(reader, study, options.table) : null,
  };
}

/** The chart's columns for `points` (every finished trial, in order), thinned to at most `limit`. */
export function chartSeries(points: readonly ChartPoint[], total: number, limit = CHART_POINTS): ChartSeries {
  const shown = thinPoints(points, limit);
  return {
    ...progressSeries(shown),
    description: shown.map((point) => point.description),
    reason: shown.map((point) => (point.status === 'keep' || point.status === 'discard' ? null : point.reason)),
    total,
    thinned: shown.length < points.length,
  };
}

/** The trial statuses a page can be filtered to. */
const FINISHED_STATUSES: readonly TrialStatus[] = ['keep', 'discard', 'crash', 'timeout', 'invalid', 'interrupted'];

/** Whether `status` names a finished trial status (the table's filter chips). */
export function isFinishedStatus(status: string): status is TrialStatus {
  return (FINISHED_STATUSES as readonly string[]).includes(status);
}

/** One page of the study's table, sorted and filtered by the ledger. */
export function researchTrialPage(reader: LedgerReader, study: StudyRecord, query: TrialPageQuery): ResearchTrialPage {
  const metric = researchMetric(study);
  const page = reader.trialQueries.page(study.id, query);
  const usd = reader.usdBy(study.id, 'trial_id');
  const holdouts = reader.holdouts(study.id);
  return {
    trials: page.trials.map((trial) => trialRow(trial, metric, usd.get(trial.id) ?? 0, holdouts.get(trial.id))),
    total: page.total,
    page: page.page,
    pages: Math.max(1, Math.ceil(page.total / page.limit)),
    limit: page.limit,
  };
}

/**
 * The dashboard's duty cycle (research-view.ts's dutyCycle) from sums: run
 * time over (running time × slots), or over first start to last end without
 * state events.
 */
export function dutyOf(times: TrialRunTimes, now: number | undefined, windows: readonly [number, number][]): ResearchView['duty'] {
  if (times.firstStartedAt === null) return null;
  const start = Date.parse(times.firstStartedAt);
  const openEnds = times.openStarts.map((started) => now ?? Date.parse(started));
  const end = Math.max(now ?? 0, times.lastEndedAt === null ? 0 : Date.parse(times.lastEndedAt), ...openEnds);
  const busy = times.endedSpanMs + times.openStarts.reduce((sum, started, index) => sum + Math.max(0, openEnds[index]! - Date.parse(started)), 0);
  const slots = Math.max(1, times.slots);
  const span = windows.length ? windows.reduce((sum, [from, to]) => sum + Math.max(0, to - from), 0) : end - start;
  if (span <= 0) return null;
  return { fraction: Math.min(1, busy / (span * slots)), busy_s: busy / 1000, span_s: span / 1000, slots };
}
