/** How long to wait before retry `attempt` (1 = the first retry): exponential from `baseMs`, capped at `maxMs`. */
export function backoffMs(attempt: number, baseMs = 500, maxMs = 10_000): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
}

/**
 * The wait a `Retry-After` header asks for, in ms: seconds (`120`) or an
 * HTTP date; undefined when absent or unreadable. Capped at `maxMs` so a
 * receiver cannot park a notification for hours.
 *
 * @example
 * retryAfterMs('2', Date.now()); // 2000
 */
export function retryAfterMs(header: string | null | undefined, now: number, maxMs = 60_000): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  const seconds = /^\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) * 1000 : undefined;
  const date = seconds === undefined ? Date.parse(trimmed) : Number.NaN;
  const wait = seconds ?? (Number.isNaN(date) ? undefined : date - now);
  return wait === undefined ? undefined : Math.min(maxMs, Math.max(0, wait));
}

/** Should an HTTP answer be retried? Rate limits and server errors, yes; the rest say the request itself is wrong. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}
