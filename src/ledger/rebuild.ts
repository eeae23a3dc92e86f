import type { LedgerEvents, LedgerEventType } from './events.ts';
import { Ledger, ledgerDatabase } from './ledger.ts';
import { prepared } from './prepared.ts';
import { project } from './projections.ts';

/**
 * Replay every event of `source` into a fresh ledger at `targetPath`
 * (`:memory:` by default). The state tables of the result must equal the
 * source's (apart from the ownership lease, which is not history): that is
 * the event log's promise, and `strata ledger check` holds it to it.
 *
 * @example
 * const replayed = rebuildLedger(Ledger.open('.strata/ledger.db', { readOnly: true }));
 */
export function rebuildLedger(source: Ledger, targetPath = ':memory:'): Ledger {
  const target = Ledger.open(targetPath);
  const db = ledgerDatabase(target);
  const insert = prepared(db, 'INSERT INTO events (id, study_id, trial_id, type, payload_json, created_at) VALUES (?, ?, ?, ?, ?, ?)');
  try {
    target.transaction(() => {
      // One event at a time: a ledger of hundreds of megabytes is never held in memory twice.
      for (const row of ledgerDatabase(source).prepare('SELECT id, study_id, trial_id, type, payload_json, created_at FROM events ORDER BY id').iterate()) {
        const type = String(row.type) as LedgerEventType;
        const json = String(row.payload_json);
        const createdAt = String(row.created_at);
        // Replayed as stored: the payloads were bounded when they were recorded.
        project(db, type, JSON.parse(json) as LedgerEvents[LedgerEventType], createdAt);
        insert.run(Number(row.id), row.study_id === null ? null : Number(row.study_id), row.trial_id === null ? null : Number(row.trial_id), type, json, createdAt);
      }
    });
  } catch (error) {
    target.close();
    throw error;
  }
  return target;
}
