/** Column readers shared by the stores: SQLite hands back `unknown`s. */
export type Row = Record<string, unknown>;
export const text = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));
export const num = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));
export const parse = <T>(value: unknown): T | null => (typeof value === 'string' && value !== '' ? (JSON.parse(value) as T) : null);
