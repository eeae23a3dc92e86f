import type { DatabaseSync } from 'node:sqlite';

/** How one event changes the state tables: a few statements, run inside the transaction that appends the event. */
export type Projection<Payload> = (db: DatabaseSync, payload: Payload, at: string) => void;

/**
 * One projection for every event of an event map. A mapped type, so an event
 * declared without its projection is a type error, not a replay that fails
 * at runtime.
 */
export type Projections<Events> = { readonly [Type in keyof Events]: Projection<Events[Type]> };

/** For events that change no state table: the fact lives in the event log alone (and is read from there). */
export const eventOnly = (): void => {};

/** JSON for a nullable column. */
export const json = (value: unknown): string | null => (value === null || value === undefined ? null : JSON.stringify(value));

/** A REAL column: NaN and infinities are stored as NULL (SQLite would store NaN as NULL anyway, infinities not). */
export const finite = (value: number | null): number | null => (value !== null && Number.isFinite(value) ? value : null);

/**
 * Per event type, how its payload's texts are bounded before it is written
 * (see bounded-text.ts). Applied by `Ledger.record`, so the event log and the
 * state tables hold the same bounded text and a replay reproduces it.
 */
export type PayloadBounds<Events> = { readonly [Type in keyof Events]?: (payload: Events[Type]) => Events[Type] };
