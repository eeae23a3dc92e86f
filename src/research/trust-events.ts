/**
 * Reads of the research trust facts (the acceptance rule a study runs under,
 * the sealed holdout results). Their events and payload types live in
 * ledger/events/research.ts; the types are re-exported here for the loop.
 */
import type { HoldoutResult, HoldoutStatus } from '../ledger/events.ts';
import type { Ledger } from '../ledger/ledger.ts';

export type { HoldoutResult, HoldoutStatus, TrialAssessment } from '../ledger/events.ts';

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
