/**
 * The events every study kind shares: a study's life and a trial's life.
 */
import type { FinalTrialStatus, StudyKind, StudyState, StudyStopCause, TrialCause, TrialRole } from '../../core/trial.ts';
import { boundNullable, boundText, TEXT_LIMITS } from '../bounded-text.ts';
import { prepared } from '../prepared.ts';
import { finite, json, type PayloadBounds, type Projections } from './projection.ts';

/** Study and trial events. Ids are assigned before the event is written, so a replay reproduces them exactly. */
export interface CoreEvents {
  'study.created': {
    studyId: number;
    name: string;
    kind: StudyKind;
    config: unknown;
    configHash: string;
    branch: string | null;
    baseCommit: string | null;
  };
  /** `cause` is absent in events written before causes were recorded. */
  'study.state_changed': { studyId: number; state: StudyState; reason: string | null; cause?: StudyStopCause | null };
  'study.config_changed': { studyId: number; config: unknown; configHash: string };
  'trial.queued': {
    studyId: number;
    trialId: number;
    seq: number;
    role: TrialRole;
    proposer: string;
    description: string;
    parentCommit: string | null;
    relatedTrialId: number | null;
    /** The interrupted trial this is a new attempt of (absent in events written before retries were recorded apart). */
    retryOf?: number | null;
    params: Record<string, unknown> | null;
    paramsKey: string | null;
    budgetMs: number;
    seed: number | null;
    attempt: number;
  };
  'trial.started': {
    trialId: number;
    worktree: string | null;
    logPath: string | null;
    executor: string;
    slot: string | null;
    externalId: string | null;
  };
  'trial.proposed': {
    trialId: number;
    description: string;
    candidateCommit: string | null;
    diff: string;
    params: Record<string, unknown> | null;
    paramsKey: string | null;
    meta: Record<string, unknown> | null;
  };
  /** A live trial's run measured a valid metric; its decision is pending (and resumes after a stop). */
  'trial.measured': {
    trialId: number;
    metrics: Record<string, number> | null;
    metric: number;
    exitCode: number | null;
    signal: string | null;
    wallMs: number | null;
    peakRssKb: number | null;
    logTail: string | null;
  };
  'trial.finished': {
    trialId: number;
    status: FinalTrialStatus;
    /** Absent in events written before causes were recorded. */
    cause?: TrialCause;
    reason: string | null;
    metrics: Record<string, number> | null;
    metric: number | null;
    bestBefore: number | null;
    exitCode: number | null;
    signal: string | null;
    wallMs: number | null;
    peakRssKb: number | null;
    logTail: string | null;
  };
  'trial.kept': { studyId: number; trialId: number; keptCommit: string };
}

export const coreProjections: Projections<CoreEvents> = {
  'study.created': (db, e, at) => {
    prepared(
      db,
      `INSERT INTO studies (id, name, kind, state, config_json, config_hash, branch, base_commit, created_at, updated_at)
       VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?, ?)`,
    ).run(e.studyId, e.name, e.kind, JSON.stringify(e.config), e.configHash, e.branch, e.baseCommit, at, at);
  },
  'study.state_changed': (db, e, at) => {
    prepared(db, 'UPDATE studies SET state = ?, stop_reason = ?, stop_cause = ?, updated_at = ? WHERE id = ?').run(e.state, e.reason, e.cause ?? null, at, e.studyId);
  },
  'study.config_changed': (db, e, at) => {
    prepared(db, 'UPDATE studies SET config_json = ?, config_hash = ?, updated_at = ? WHERE id = ?').run(JSON.stringify(e.config), e.configHash, at, e.studyId);
  },
  'trial.queued': (db, e, at) => {
    prepared(
      db,
      `INSERT INTO trials (id, study_id, seq, role, related_trial_id, retry_of, parent_commit, proposer, description, params_json, params_key,
         status, budget_ms, seed, attempt, queued_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?)`,
    ).run(e.trialId, e.studyId, e.seq, e.role, e.relatedTrialId, e.retryOf ?? null, e.parentCommit, e.proposer, e.description, json(e.params), e.paramsKey, e.budgetMs, e.seed, e.attempt, at);
  },
  'trial.started': (db, e, at) => {
    prepared(db, `UPDATE trials SET status = 'running', worktree = ?, log_path = ?, executor = ?, slot = ?, external_id = ?, started_at = ? WHERE id = ?`).run(
      e.worktree,
      e.logPath,
      e.executor,
      e.slot,
      e.externalId,
      at,
      e.trialId,
    );
  },
  'trial.proposed': (db, e) => {
    prepared(db, `UPDATE trials SET description = ?, candidate_commit = ?, diff = ?, params_json = ?, params_key = ?, meta_json = ? WHERE id = ?`).run(
      e.description,
      e.candidateCommit,
      e.diff,
      json(e.params),
      e.paramsKey,
      json(e.meta),
      e.trialId,
    );
  },
  'trial.measured': (db, e, at) => {
    prepared(db, `UPDATE trials SET metrics_json = ?, metric = ?, exit_code = ?, signal = ?, wall_ms = ?, peak_rss_kb = ?, log_tail = ?, measured_at = ? WHERE id = ?`).run(
      json(e.metrics),
      finite(e.metric),
      e.exitCode,
      e.signal,
      e.wallMs,
      e.peakRssKb,
      e.logTail,
      at,
      e.trialId,
    );
  },
  'trial.finished': (db, e, at) => {
    prepared(
      db,
      `UPDATE trials SET status = ?, cause = ?, status_reason = ?, metrics_json = ?, metric = ?, best_before = ?, exit_code = ?, signal = ?,
         wall_ms = ?, peak_rss_kb = ?, log_tail = ?, ended_at = ? WHERE id = ?`,
    ).run(e.status, e.cause ?? null, e.reason, json(e.metrics), finite(e.metric), e.bestBefore, e.exitCode, e.signal, e.wallMs, e.peakRssKb, e.logTail, at, e.trialId);
  },
  'trial.kept': (db, e, at) => {
    prepared(db, 'UPDATE trials SET kept_commit = ? WHERE id = ?').run(e.keptCommit, e.trialId);
    prepared(db, 'UPDATE studies SET best_trial_id = ?, updated_at = ? WHERE id = ?').run(e.trialId, at, e.studyId);
  },
};

export const coreBounds: PayloadBounds<CoreEvents> = {
  'study.state_changed': (e) => ({ ...e, reason: boundNullable(e.reason, TEXT_LIMITS.reason) }),
  'trial.queued': (e) => ({ ...e, description: boundText(e.description, TEXT_LIMITS.description) }),
  'trial.proposed': (e) => ({ ...e, description: boundText(e.description, TEXT_LIMITS.description), diff: boundText(e.diff, TEXT_LIMITS.diff) }),
  // A log's end says why a run failed: keep the tail.
  'trial.measured': (e) => ({ ...e, logTail: boundNullable(e.logTail, TEXT_LIMITS.logTail, 'tail') }),
  'trial.finished': (e) => ({ ...e, reason: boundNullable(e.reason, TEXT_LIMITS.reason), logTail: boundNullable(e.logTail, TEXT_LIMITS.logTail, 'tail') }),
};
