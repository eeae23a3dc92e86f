import type { DatabaseSync } from 'node:sqlite';
import type { LedgerEvents, LedgerEventType } from './events.ts';
import { prepared } from './prepared.ts';

type Projection<T extends LedgerEventType> = (db: DatabaseSync, payload: LedgerEvents[T], at: string) => void;

const json = (value: unknown): string | null => (value === null || value === undefined ? null : JSON.stringify(value));

/**
 * How each event changes the state tables. Loops that add their own event
 * types register projections for them with `registerProjection`.
 */
const projections: { [T in LedgerEventType]?: Projection<T> } = {
  'study.created': (db, e, at) => {
    prepared(db, 
      `INSERT INTO studies (id, name, kind, state, config_json, config_hash, branch, base_commit, created_at, updated_at)
       VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?, ?)`,
    ).run(e.studyId, e.name, e.kind, JSON.stringify(e.config), e.configHash, e.branch, e.baseCommit, at, at);
  },
  'study.state_changed': (db, e, at) => {
    prepared(db, 'UPDATE studies SET state = ?, stop_reason = ?, updated_at = ? WHERE id = ?').run(e.state, e.reason, at, e.studyId);
  },
  'study.config_changed': (db, e, at) => {
    prepared(db, 'UPDATE studies SET config_json = ?, config_hash = ?, updated_at = ? WHERE id = ?').run(
      JSON.stringify(e.config),
      e.configHash,
      at,
      e.studyId,
    );
  },
  'trial.queued': (db, e, at) => {
    prepared(db, 
      `INSERT INTO trials (id, study_id, seq, role, related_trial_id, parent_commit, proposer, description, params_json, params_key,
         status, budget_ms, seed, attempt, queued_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?)`,
    ).run(
      e.trialId,
      e.studyId,
      e.seq,
      e.role,
      e.relatedTrialId,
      e.parentCommit,
      e.proposer,
      e.description,
      json(e.params),
      e.paramsKey,
      e.budgetMs,
      e.seed,
      e.attempt,
      at,
    );
  },
  'trial.started': (db, e, at) => {
    prepared(db, 
      `UPDATE trials SET status = 'running', worktree = ?, log_path = ?, executor = ?, slot = ?, external_id = ?, started_at = ? WHERE id = ?`,
    ).run(e.worktree, e.logPath, e.executor, e.slot, e.externalId, at, e.trialId);
  },
  'trial.proposed': (db, e) => {
    prepared(db, 
      `UPDATE trials SET description = ?, candidate_commit = ?, diff = ?, params_json = ?, params_key = ?, meta_json = ? WHERE id = ?`,
    ).run(e.description, e.candidateCommit, e.diff, json(e.params), e.paramsKey, json(e.meta), e.trialId);
  },
  'trial.finished': (db, e, at) => {
    prepared(db, 
      `UPDATE trials SET status = ?, status_reason = ?, metrics_json = ?, metric = ?, best_before = ?, exit_code = ?, signal = ?,
         wall_ms = ?, peak_rss_kb = ?, log_tail = ?, ended_at = ? WHERE id = ?`,
    ).run(
      e.status,
      e.reason,
      json(e.metrics),
      e.metric !== null && Number.isFinite(e.metric) ? e.metric : null,
      e.bestBefore,
      e.exitCode,
      e.signal,
      e.wallMs,
      e.peakRssKb,
      e.logTail,
      at,
      e.trialId,
    );
  },
  'trial.kept': (db, e, at) => {
    prepared(db, 'UPDATE trials SET kept_commit = ? WHERE id = ?').run(e.keptCommit, e.trialId);
    prepared(db, 'UPDATE studies SET best_trial_id = ?, updated_at = ? WHERE id = ?').run(e.trialId, at, e.studyId);
  },
};

/** Register the projection for an event type a loop adds (by module augmentation of LedgerEvents). */
export function registerProjection<T extends LedgerEventType>(type: T, projection: Projection<T>): void {
  (projections as Record<string, Projection<T>>)[type] = projection;
}

/** Apply one event to the state tables. */
export function project<T extends LedgerEventType>(db: DatabaseSync, type: T, payload: LedgerEvents[T], at: string): void {
  const projection = projections[type] as Projection<T> | undefined;
  if (!projection) throw new Error(`no projection registered for ledger event "${type}"`);
  projection(db, payload, at);
}
