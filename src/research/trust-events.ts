/**
 * Ledger events for results you can trust: the acceptance rule a study
 * runs under, the evidence behind each decision, re-checks of the
 * incumbent, and the sealed holdout results (a table of their own, never
 * joined into what proposers read).
 */
import type { AcceptanceEvidence } from '../core/acceptance.ts';
import type { Ledger } from '../ledger/ledger.ts';
import { registerProjection } from '../ledger/projections.ts';

/** What the decision on a trial rested on, kept in its meta as `acceptance`. */
export interface TrialAssessment {
  rule: string;
  /** Runs of the trial's commit the decision used (its own and its reruns). */
  runs: number;
  /** Looks at the candidate (1 + reruns asked for). */
  looks: number;
  evidence: AcceptanceEvidence | null;
  /** A sanity limit that made the first measurement suspect. */
  suspect: string | null;
  /** What the sandbox or the stages noticed (leftover processes killed, a metric printed by `run` ignored). */
  notes: string[];
}

export type HoldoutStatus = 'measured' | 'crash' | 'timeout' | 'invalid' | 'interrupted';

/** One sealed holdout result. */
export interface HoldoutResult {
  trialId: number;
  status: HoldoutStatus;
  metric: number | null;
  metrics: Record<string, number> | null;
  reason: string | null;
  wallMs: number | null;
  logPath: string | null;
  createdAt: string;
}

declare module '../ledger/events.ts' {
  interface LedgerEvents {
    /** The acceptance rule a study runs under, recorded when it first starts (noise-aware for new studies unless the config names one). */
    'study.acceptance_chosen': { studyId: number; rule: string };
    /** The evidence behind the decision on a trial. */
    'trial.assessed': { trialId: number; assessment: TrialAssessment };
    /** The incumbent was run again: does it still beat the best it replaced? */
    'trial.rechecked': { studyId: number; trialId: number; parentTrialId: number | null; checkTrialId: number; stillBetter: boolean; reason: string };
    /** The sealed holdout stage ran for a trial that became the best. */
    'trial.holdout_measured': Omit<HoldoutResult, 'createdAt'> & { studyId: number };
  }
}

// The rule is read back from the event log (see chosenAcceptanceRule); no state table holds it.
registerProjection('study.acceptance_chosen', () => {});

registerProjection('trial.assessed', (db, e) => {
  db.prepare(`UPDATE trials SET meta_json = json_set(COALESCE(meta_json, '{}'), '$.acceptance', json(?)) WHERE id = ?`).run(JSON.stringify(e.assessment), e.trialId);
});

registerProjection('trial.rechecked', (db, e, at) => {
  const recheck = { parentTrialId: e.parentTrialId, checkTrialId: e.checkTrialId, stillBetter: e.stillBetter, reason: e.reason, at };
  db.prepare(`UPDATE trials SET meta_json = json_set(COALESCE(meta_json, '{}'), '$.recheck', json(?)) WHERE id = ?`).run(JSON.stringify(recheck), e.trialId);
});

registerProjection('trial.holdout_measured', (db, e, at) => {
  db.prepare(
    `INSERT OR REPLACE INTO holdout_results (trial_id, study_id, status, metric, metrics_json, reason, wall_ms, log_path, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    e.trialId,
    e.studyId,
    e.status,
    e.metric !== null && Number.isFinite(e.metric) ? e.metric : null,
    e.metrics === null ? null : JSON.stringify(e.metrics),
    e.reason,
    e.wallMs,
    e.logPath,
    at,
  );
});

/** The rule recorded for a study, if any. */
export function chosenAcceptanceRule(ledger: Ledger, studyId: number): string | undefined {
  const row = ledger.db
    .prepare(`SELECT payload_json FROM events WHERE study_id = ? AND type = 'study.acceptance_chosen' ORDER BY id DESC LIMIT 1`)
    .get(studyId) as { payload_json: string } | undefined;
  return row ? (JSON.parse(row.payload_json) as { rule: string }).rule : undefined;
}

/**
 * The sealed holdout results of a study, by trial id. Only status, the
 * dashboard and the final report read these; proposers never do.
 */
export function holdoutResults(ledger: Ledger, studyId: number): Map<number, HoldoutResult> {
  const rows = ledger.db.prepare('SELECT * FROM holdout_results WHERE study_id = ? ORDER BY trial_id').all(studyId) as Record<string, unknown>[];
  return new Map(
    rows.map((row) => [
      Number(row.trial_id),
      {
        trialId: Number(row.trial_id),
        status: row.status as HoldoutStatus,
        metric: row.metric === null ? null : Number(row.metric),
        metrics: typeof row.metrics_json === 'string' ? (JSON.parse(row.metrics_json) as Record<string, number>) : null,
        reason: row.reason === null ? null : String(row.reason),
        wallMs: row.wall_ms === null ? null : Number(row.wall_ms),
        logPath: row.log_path === null ? null : String(row.log_path),
        createdAt: String(row.created_at),
      },
    ]),
  );
}
