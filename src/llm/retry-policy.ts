import { APICallError } from 'ai';

/** How hard to retry a failing model call. */
export interface RetryPolicy {
  /** Retries after the first attempt. */
  maxRetries: number;
  /** First backoff; doubles each retry. */
  baseDelayMs: number;
  /** Cap on the computed backoff (a server's Retry-After may ask for more, up to `maxRetryAfterMs`). */
  maxDelayMs: number;
  /** Longest Retry-After honored; a server asking for more is treated as unavailable. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxRetries: 4, baseDelayMs: 1000, maxDelayMs: 30_000, maxRetryAfterMs: 300_000 };

export type FailureKind = 'rate_limit' | 'server' | 'timeout' | 'network' | 'client' | 'malformed' | 'aborted';

/** What went wrong with one attempt, and whether trying again can help. */
export interface Failure {
  kind: FailureKind;
  retryable: boolean;
  status?: number;
  /** The server's wish, from `retry-after-ms` or `retry-after` (seconds or an HTTP date). */
  retryAfterMs?: number;
}

/**
 * Classify an error thrown by one model call. `timedOut` and `aborted` say
 * whether our per-call timeout or the caller's signal fired.
 *
 * @example
 * classifyFailure(error, { timedOut: false, aborted: false, now: Date.now() }); // { kind: 'rate_limit', retryable: true, status: 429, retryAfterMs: 2000 }
 */
export function classifyFailure(error: unknown, context: { timedOut: boolean; aborted: boolean; now: number }): Failure {
  if (context.aborted) return { kind: 'aborted', retryable: false };
  if (context.timedOut) return { kind: 'timeout', retryable: true };
  if (APICallError.isInstance(error)) {
    const status = error.statusCode;
    const retryAfterMs = parseRetryAfter(error.responseHeaders, context.now);
    const extra = { ...(status !== undefined ? { status } : {}), ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
    if (status === 429) return { kind: 'rate_limit', retryable: true, ...extra };
    if (status !== undefined && (status >= 500 || status === 408 || status === 409)) return { kind: 'server', retryable: true, ...extra };
    if (status === undefined) return { kind: error.isRetryable ? 'network' : 'malformed', retryable: error.isRetryable, ...extra };
    if (status >= 200 && status < 300) return { kind: 'malformed', retryable: false, ...extra };
    return { kind: 'client', retryable: false, ...extra };
  }
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return { kind: 'timeout', retryable: true };
  if (error instanceof TypeError && /fetch failed|ECONNRE|socket/i.test(`${error.message} ${String(error.cause)}`)) return { kind: 'network', retryable: true };
  return { kind: 'malformed', retryable: false };
}

/**
 * The wait before retry number `retry` (1-based): the server's Retry-After
 * when given, else exponential backoff with up to 25% jitter (`jitter` in [0, 1)).
 * Returns null when the server asks for longer than the policy allows.
 *
 * @example
 * retryDelayMs(3, { kind: 'server', retryable: true }, DEFAULT_RETRY_POLICY, 0); // 4000
 */
export function retryDelayMs(retry: number, failure: Failure, policy: RetryPolicy, jitter: number): number | null {
  if (failure.retryAfterMs !== undefined) return failure.retryAfterMs > policy.maxRetryAfterMs ? null : failure.retryAfterMs;
  const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return Math.round(backoff * (1 + 0.25 * jitter));
}

/** Milliseconds from `retry-after-ms`, or `retry-after` as seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(headers: Record<string, string> | undefined, now: number): number | undefined {
  if (!headers) return undefined;
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const ms = lower['retry-after-ms'];
  if (ms !== undefined && Number.isFinite(Number(ms)) && Number(ms) >= 0) return Math.round(Number(ms));
  const value = lower['retry-after'];
  if (value === undefined) return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(value)) return Math.round(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
