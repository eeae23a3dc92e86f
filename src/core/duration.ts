/**
 * The longest duration Strata accepts: 2^31 − 1 ms (596h31m, about 24.8 days),
 * the longest a Node.js timer can wait. A longer one fires at once with a
 * TimeoutOverflowWarning, so a budget or max_time beyond it would kill a trial
 * at its start or wake a wait loop every millisecond.
 */
export const MAX_DURATION_MS = 2 ** 31 - 1;

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_RE = /^\s*((?:\d+(?:\.\d+)?\s*(?:ms|s|m|h|d)\s*)+)$/;
const PART_RE = /(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)/g;

/**
 * Parse a duration like `300s`, `5m`, `1h30m`, `250ms`, or a bare number of
 * seconds. Returns milliseconds, or null when the text is not a duration.
 *
 * @example
 * parseDuration('1h30m'); // 5_400_000
 */
export function parseDuration(value: string | number): number | null {
  if (typeof value === 'number') return Number.isFinite(value) && value > 0 ? Math.round(value * 1000) : null;
  if (!DURATION_RE.test(value)) return null;
  let total = 0;
  for (const match of value.matchAll(PART_RE)) total += Number(match[1]) * UNIT_MS[match[2]!]!;
  return total > 0 ? Math.round(total) : null;
}

/** Human form of a duration in ms: `850ms`, `12.3s`, `4m05s`, `2h13m`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(Math.floor(seconds % 60)).padStart(2, '0')}s`;
  const hours = Math.floor(minutes / 60);
  return `${hours}h${String(minutes % 60).padStart(2, '0')}m`;
}
