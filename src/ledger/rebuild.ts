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
  target.transaction(() => {
    for (const event of source.events()) {
      // Replayed as stored: the payloads were bounded when they were recorded.
      project(db, event.type, event.payload, event.createdAt);
      prepared(db, 'INSERT INTO events (id, study_id, trial_id, type, payload_json, created_at) VALUES (?, ?, ?, ?, ?, ?)').run(
        event.id,
        event.studyId,
        event.trialId,
        event.type,
        JSON.stringify(event.payload),
        event.createdAt,
      );
    }
  });
  return target;
}
