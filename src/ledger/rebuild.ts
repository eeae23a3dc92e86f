import { Ledger } from './ledger.ts';
import { project } from './projections.ts';

/**
 * Replay every event of `source` into a fresh ledger at `targetPath`
 * (`:memory:` by default). The state tables of the result must equal the
 * source's: that is the event log's promise, and tests hold it to it.
 */
export function rebuildLedger(source: Ledger, targetPath = ':memory:'): Ledger {
  const target = Ledger.open(targetPath);
  target.transaction(() => {
    for (const event of source.events()) {
      project(target.db, event.type, event.payload, event.createdAt);
      target.db
        .prepare('INSERT INTO events (id, study_id, trial_id, type, payload_json, created_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(event.id, event.studyId, event.trialId, event.type, JSON.stringify(event.payload), event.createdAt);
    }
  });
  return target;
}
