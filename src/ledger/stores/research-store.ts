import type { DatabaseSync } from 'node:sqlite';
import type { HoldoutResult, HoldoutStatus } from '../events/research.ts';
import { prepared } from '../prepared.ts';
import type { EventStore } from './event-store.ts';
import { num, parse, text } from './row.ts';

/**
 * Research reads beyond studies and trials: the acceptance rule a study
 * runs under and the sealed holdout results (which only status, the
 * dashboard and the final report read; proposers never do).
 */
export class ResearchStore {
  private readonly db: DatabaseSync;
  private readonly events: EventStore;

  constructor(db: DatabaseSync, events: EventStore) {
    this.db = db;
    this.events = events;
  }

  /** The rule recorded for a study, if any. */
  acceptanceRule(studyId: number): string | undefined {
    return this.events.last(studyId, 'study.acceptance_chosen')?.rule;
  }

  /** The sealed holdout results of a study, by trial id; empty for a ledger from before they existed. */
  holdoutResults(studyId: number): Map<number, HoldoutResult> {
    if (!prepared(this.db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'holdout_results'").get()) return new Map();
    const rows = prepared(this.db, 'SELECT * FROM holdout_results WHERE study_id = ? ORDER BY trial_id').all(studyId);
    return new Map(
      rows.map((row) => [
        Number(row.trial_id),
        {
          trialId: Number(row.trial_id),
          status: row.status as HoldoutStatus,
          metric: num(row.metric),
          metrics: parse<Record<string, number>>(row.metrics_json),
          reason: text(row.reason),
          wallMs: num(row.wall_ms),
          logPath: text(row.log_path),
          createdAt: String(row.created_at),
        },
      ]),
    );
  }
}
