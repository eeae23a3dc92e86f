import type { DatabaseSync } from 'node:sqlite';
import { LedgerError } from '../core/errors.ts';
import { isLedgerEventType, projections, type LedgerEvents, type LedgerEventType } from './events.ts';
import type { Projection } from './events/projection.ts';

/** Apply one event to the state tables. */
export function project<T extends LedgerEventType>(db: DatabaseSync, type: T, payload: LedgerEvents[T], at: string): void {
  // The type says `type` is known, but a stored event may come from a newer Strata.
  if (!isLedgerEventType(type)) {
    throw new LedgerError(`the ledger holds an event "${type}" this Strata does not know; upgrade Strata to read it`, { details: { type } });
  }
  (projections[type] as Projection<LedgerEvents[T]>)(db, payload, at);
}
