import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import type { TrialStatus } from '../../core/trial.ts';
import { prepared } from '../prepared.ts';
import { toTrial, type TrialRecord } from '../records.ts';
import { CALL_USD } from './llm-store.ts';

/** Columns a page of trials can be sorted by; each maps to one SQL expression below. */
export const TRIAL_SORT_KEYS = ['seq', 'status', 'metric', 'delta', 'holdout', 'proposer', 'description', 'duration_s', 'usd'] as const;
export type TrialSortKey = (typeof TRIAL_SORT_KEYS)[number];

/** Which page of a study's finished trials to read, in which order, with which filters. */
export interface TrialPageQuery {
  /** 1-based. A page past the end is clamped to the last one. */
  page: number;
  limit: number;
  /** One status, or every finished trial. */
  status?: TrialStatus | null;
  /** Case-insensitive text searched in the description, proposer, reason and `#seq`. */
  text?: string | null;
  sort: TrialSortKey;
  descending: boolean;
}

/** A page of trials and where it sits among those that matched. */
export interface TrialPage {
  trials: TrialRecord[];
  /** Trials that matched the filters (all pages). */
  total: number;
  page: number;
  limit: number;
}

/** A finished trial as the progress chart needs it: a few columns, no JSON parsed. */
export interface TrialPoint {
  id: number;
  seq: number;
  status: TrialStatus;
  role: string;
  metric: number | null;
  /** The sealed holdout metric (or one the trial recorded as `holdout`, `holdout_<metric>` or `meta.holdout`); null when none. */
  holdout: number | null;
  description: string;
  reason: string | null;
}

/** How long a study's trial processes ran, and what the dashboard's duty cycle needs. */
export interface TrialRunTimes {
  /** Σ wall_ms of finished trials (what `total_time_s` reports). */
  finishedWallMs: number;
  /** Σ wall_ms of every started trial that has one (the scheduling summary's busy time). */
  startedWallMs: number;
  /** Started trials without a wall time (killed before it was measured, or still running): their start and end. */
  unmeasured: { startedAt: string; endedAt: string | null }[];
  /** The dashboard's span measure: Σ (end − start) over started trials that ended, first start, last end, distinct slots, and the starts of those still open. */
  endedSpanMs: number;
  firstStartedAt: string | null;
  lastEndedAt: string | null;
  slots: number;
  openStarts: string[];
}

const FINISHED = "status NOT IN ('queued', 'running')";

/** Trials with an event after a given one (parameters: study id, event id). */
const CHANGED_SINCE = 'SELECT DISTINCT trial_id FROM events WHERE study_id = ? AND id > ? AND trial_id IS NOT NULL';

/** A chart point's columns; the holdout as research-view.ts's holdoutOf finds it (first parameter: the `holdout_<metric>` path). */
const POINT_SQL = `SELECT t.id, t.seq, t.status, t.role, t.metric, t.description, t.status_reason,
  COALESCE(
    (SELECT h.metric FROM holdout_results h WHERE h.trial_id = t.id),
    -- The JSON is looked into only where the word occurs: most trials have no holdout, and parsing every row's JSON was most of the cost.
    CASE WHEN instr(COALESCE(t.metrics_json, '') || COALESCE(t.meta_json, ''), 'holdout') > 0 THEN COALESCE(
      CASE WHEN json_type(t.metrics_json, '$.holdout') IN ('real', 'integer') THEN json_extract(t.metrics_json, '$.holdout') END,
      CASE WHEN json_type(t.metrics_json, ?1) IN ('real', 'integer') THEN json_extract(t.metrics_json, ?1) END,
      CASE WHEN json_type(t.meta_json, '$.holdout') IN ('real', 'integer') THEN json_extract(t.meta_json, '$.holdout') END,
      CASE WHEN json_type(t.meta_json, '$.holdout.metric') IN ('real', 'integer') THEN json_extract(t.meta_json, '$.holdout.metric') END,
      CASE WHEN json_type(t.meta_json, '$.holdout.value') IN ('real', 'integer') THEN json_extract(t.meta_json, '$.holdout.value') END
    ) END
  ) AS holdout
  FROM trials t`;

const toPoint = (row: Record<string, unknown>): TrialPoint => ({
  id: Number(row.id),
  seq: Number(row.seq),
  status: row.status as TrialStatus,
  role: String(row.role),
  metric: row.metric === null ? null : Number(row.metric),
  holdout: row.holdout === null || row.holdout === undefined ? null : Number(row.holdout),
  description: String(row.description ?? ''),
  reason: row.status_reason === null ? null : String(row.status_reason),
});

/** SQL for each sort key; NULLs go last whichever way, ties by trial number (the order the table had before it was sorted). */
const SORT_SQL: Record<TrialSortKey, string> = {
  seq: 't.seq',
  status: 't.status',
  metric: 't.metric',
  delta: '(t.metric - t.best_before)',
  holdout: "COALESCE((SELECT h.metric FROM holdout_results h WHERE h.trial_id = t.id), json_extract(t.metrics_json, '$.holdout'))",
  proposer: 't.proposer',
  description: 't.description',
  duration_s: 't.wall_ms',
  usd: `COALESCE((SELECT SUM(${CALL_USD}) FROM llm_calls c WHERE c.study_id = t.study_id AND c.trial_id = t.id), 0)`,
};

/**
 * Reads of a study's trials that stay fast at tens of thousands of rows:
 * counts and sums in SQL, the few rows a view shows (the best's lineage,
 * the last N, one page sorted and filtered by the database), and the
 * progress chart's columns without parsing any JSON. `Ledger.trials()`
 * reads and parses every row; these read what is shown.
 *
 * @example
 * const page = ledger.trialQueries.page(study.id, { page: 1, limit: 50, sort: 'metric', descending: false, status: 'keep' });
 * console.log(`${page.trials.length} of ${page.total}`);
 */
export class TrialQueryStore {
  private readonly db: DatabaseSync;

  constructor(db: DatabaseSync) {
    this.db = db;
  }

  /** How many trials have each status (live ones included). */
  counts(studyId: number): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const row of prepared(this.db, 'SELECT status, COUNT(*) AS n FROM trials WHERE study_id = ? GROUP BY status').all(studyId)) counts[String(row.status)] = Number(row.n);
    return counts;
  }

  /** Trials by id (in id order); ids that do not exist are left out. */
  byIds(ids: readonly number[]): TrialRecord[] {
    if (ids.length === 0) return [];
    const unique = [...new Set(ids)];
    return prepared(this.db, `SELECT * FROM trials WHERE id IN (${unique.map(() => '?').join(', ')}) ORDER BY id`).all(...unique).map(toTrial);
  }

  /** The study's kept trials, in order: what a lineage is followed through. */
  kept(studyId: number): TrialRecord[] {
    return prepared(this.db, "SELECT * FROM trials WHERE study_id = ? AND status = 'keep' ORDER BY seq").all(studyId).map(toTrial);
  }

  /** The kept trials' numbers and commits, in order: enough to follow a lineage without reading the rows. */
  keptLinks(studyId: number): { id: number; seq: number; status: 'keep'; commit: string | null; parent_commit: string | null }[] {
    return prepared(this.db, "SELECT id, seq, kept_commit, candidate_commit, parent_commit FROM trials WHERE study_id = ? AND status = 'keep' ORDER BY seq")
      .all(studyId)
      .map((row) => ({
        id: Number(row.id),
        seq: Number(row.seq),
        status: 'keep' as const,
        commit: row.kept_commit !== null ? String(row.kept_commit) : row.candidate_commit !== null ? String(row.candidate_commit) : null,
        parent_commit: row.parent_commit === null ? null : String(row.parent_commit),
      }));
  }

  /** The study's trials of one role (`verify`: what strata verify and finalize measured), in order. */
  ofRole(studyId: number, role: string): TrialRecord[] {
    return prepared(this.db, 'SELECT * FROM trials WHERE study_id = ? AND role = ? ORDER BY seq').all(studyId, role).map(toTrial);
  }

  /** The first kept baseline, if any. */
  baseline(studyId: number): TrialRecord | undefined {
    const row = prepared(this.db, "SELECT * FROM trials WHERE study_id = ? AND role = 'baseline' AND status = 'keep' ORDER BY seq LIMIT 1").get(studyId);
    return row ? toTrial(row) : undefined;
  }

  /** The last `count` finished trials, oldest first. */
  lastFinished(studyId: number, count: number): TrialRecord[] {
    return prepared(this.db, `SELECT * FROM trials WHERE study_id = ? AND ${FINISHED} ORDER BY seq DESC LIMIT ?`).all(studyId, count).map(toTrial).reverse();
  }

  /** Trials queued or running, in order. */
  live(studyId: number): TrialRecord[] {
    return prepared(this.db, "SELECT * FROM trials WHERE study_id = ? AND status IN ('queued', 'running') ORDER BY seq").all(studyId).map(toTrial);
  }

  /** Sequence numbers of every finished trial, in order (one integer per row: where left-out rows fall). */
  finishedSeqs(studyId: number): number[] {
    // Every number from the (study, seq) index alone, less the few live ones (found by the status index): no row is read.
    const live = new Set(prepared(this.db, "SELECT seq FROM trials WHERE study_id = ? AND status IN ('queued', 'running')").all(studyId).map((row) => Number(row.seq)));
    const seqs = prepared(this.db, 'SELECT seq FROM trials WHERE study_id = ? ORDER BY seq').all(studyId).map((row) => Number(row.seq));
    return live.size ? seqs.filter((seq) => !live.has(seq)) : seqs;
  }

  /** The wall-time sums alone (what `strata status` needs of TrialRunTimes). */
  wallTimes(studyId: number): Pick<TrialRunTimes, 'finishedWallMs' | 'startedWallMs' | 'unmeasured'> {
    const sums = prepared(
      this.db,
      `SELECT COALESCE(SUM(CASE WHEN ${FINISHED} THEN wall_ms END), 0) AS finished_wall, COALESCE(SUM(CASE WHEN started_at IS NOT NULL THEN wall_ms END), 0) AS started_wall
       FROM trials WHERE study_id = ?`,
    ).get(studyId)!;
    const unmeasured = prepared(this.db, 'SELECT started_at, ended_at FROM trials WHERE study_id = ? AND started_at IS NOT NULL AND wall_ms IS NULL ORDER BY seq').all(studyId);
    return {
      finishedWallMs: Number(sums.finished_wall),
      startedWallMs: Number(sums.started_wall),
      unmeasured: unmeasured.map((row) => ({ startedAt: String(row.started_at), endedAt: row.ended_at === null ? null : String(row.ended_at) })),
    };
  }

  /** Run times in sums, plus the few trials whose time must be worked out from their clock (see TrialRunTimes). */
  runTimes(studyId: number): TrialRunTimes {
    const sums = prepared(
      this.db,
      `SELECT
         COALESCE(SUM(CASE WHEN ${FINISHED} THEN wall_ms END), 0) AS finished_wall,
         COALESCE(SUM(CASE WHEN started_at IS NOT NULL THEN wall_ms END), 0) AS started_wall,
         COALESCE(SUM(CASE WHEN started_at IS NOT NULL AND ended_at IS NOT NULL THEN MAX(0, ROUND((julianday(ended_at) - julianday(started_at)) * 86400000)) END), 0) AS ended_span,
         MIN(started_at) AS first_started,
         MAX(CASE WHEN started_at IS NOT NULL THEN ended_at END) AS last_ended,
         COUNT(DISTINCT CASE WHEN started_at IS NOT NULL THEN COALESCE(slot, 'default') END) AS slots
       FROM trials WHERE study_id = ?`,
    ).get(studyId)!;
    const unmeasured = prepared(this.db, 'SELECT started_at, ended_at FROM trials WHERE study_id = ? AND started_at IS NOT NULL AND wall_ms IS NULL ORDER BY seq').all(studyId);
    const open = prepared(this.db, 'SELECT started_at FROM trials WHERE study_id = ? AND started_at IS NOT NULL AND ended_at IS NULL ORDER BY seq').all(studyId);
    return {
      finishedWallMs: Number(sums.finished_wall),
      startedWallMs: Number(sums.started_wall),
      unmeasured: unmeasured.map((row) => ({ startedAt: String(row.started_at), endedAt: row.ended_at === null ? null : String(row.ended_at) })),
      endedSpanMs: Number(sums.ended_span),
      firstStartedAt: sums.first_started === null ? null : String(sums.first_started),
      lastEndedAt: sums.last_ended === null ? null : String(sums.last_ended),
      slots: Number(sums.slots),
      openStarts: open.map((row) => String(row.started_at)),
    };
  }

  /** Finished trials as chart points, in order: a few columns, no JSON parsed in JavaScript. `metricName` names the study's holdout column `holdout_<metric>`. */
  points(studyId: number, metricName: string): TrialPoint[] {
    return prepared(this.db, `${POINT_SQL} WHERE t.study_id = ? AND t.${FINISHED} ORDER BY t.seq`).all(`$."holdout_${metricName}"`, studyId).map(toPoint);
  }

  /** The points of finished trials with an event after `afterEventId` (what a live chart merges), in order. */
  pointsSince(studyId: number, metricName: string, afterEventId: number): TrialPoint[] {
    return prepared(this.db, `${POINT_SQL} WHERE t.study_id = ? AND t.${FINISHED} AND t.id IN (${CHANGED_SINCE}) ORDER BY t.seq`)
      .all(`$."holdout_${metricName}"`, studyId, studyId, afterEventId)
      .map(toPoint);
  }

  /** Finished trials changed after event `afterEventId` (a live page's update), in order. */
  finishedSince(studyId: number, afterEventId: number): TrialRecord[] {
    return prepared(
      this.db,
      `SELECT * FROM trials t WHERE t.study_id = ? AND t.${FINISHED} AND t.id IN (${CHANGED_SINCE}) ORDER BY t.seq`,
    )
      .all(studyId, studyId, afterEventId)
      .map(toTrial);
  }

  /** The newest event id of a study (0 before any): where a live page's next update starts. */
  lastEventId(studyId: number): number {
    return Number((prepared(this.db, 'SELECT COALESCE(MAX(id), 0) AS id FROM events WHERE study_id = ?').get(studyId) as { id: number }).id);
  }

  /** One page of finished trials, filtered, sorted and counted by SQLite. */
  page(studyId: number, query: TrialPageQuery): TrialPage {
    const where = ['t.study_id = ?', `t.${FINISHED}`];
    const params: SQLInputValue[] = [studyId];
    if (query.status) {
      where.push('t.status = ?');
      params.push(query.status);
    }
    const text = query.text?.trim().toLowerCase();
    if (text) {
      // The same haystack the table searched in the browser before: description, proposer, reason, #seq.
      where.push("instr(lower(t.description || ' ' || t.proposer || ' ' || COALESCE(t.status_reason, '') || ' #' || t.seq), ?) > 0");
      params.push(text);
    }
    const filter = where.join(' AND ');
    const total = Number((prepared(this.db, `SELECT COUNT(*) AS n FROM trials t WHERE ${filter}`).get(...params) as { n: number }).n);
    const limit = Math.max(1, Math.floor(query.limit));
    const pages = Math.max(1, Math.ceil(total / limit));
    const page = Math.min(Math.max(1, Math.floor(query.page)), pages);
    const order = `${SORT_SQL[query.sort]} ${query.descending ? 'DESC' : 'ASC'} NULLS LAST${query.sort === 'seq' ? '' : ', t.seq ASC'}`;
    const rows = prepared(this.db, `SELECT t.* FROM trials t WHERE ${filter} ORDER BY ${order} LIMIT ? OFFSET ?`).all(...params, limit, (page - 1) * limit);
    return { trials: rows.map(toTrial), total, page, limit };
  }
}
