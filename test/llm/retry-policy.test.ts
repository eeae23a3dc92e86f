import { APICallError } from 'ai';
import { describe, expect, it } from 'vitest';
import { classifyFailure, DEFAULT_RETRY_POLICY, parseRetryAfter, retryDelayMs } from '../../src/llm/retry-policy.ts';

const apiError = (statusCode: number | undefined, headers: Record<string, string> = {}, isRetryable = false) =>
  new APICallError({ message: 'x', url: 'http://127.0.0.1/v1', requestBodyValues: {}, ...(statusCode !== undefined ? { statusCode } : {}), responseHeaders: headers, isRetryable });

const context = { timedOut: false, aborted: false, now: Date.parse('2026-01-01T00:00:00Z') };

describe('retry policy', () => {
  it('classifies 429, 5xx, 4xx, timeouts and aborts', () => {
    expect(classifyFailure(apiError(429, { 'retry-after': '2' }), context)).toEqual({ kind: 'rate_limit', retryable: true, status: 429, retryAfterMs: 2000 });
    expect(classifyFailure(apiError(502), context)).toMatchObject({ kind: 'server', retryable: true });
    expect(classifyFailure(apiError(400), context)).toMatchObject({ kind: 'client', retryable: false });
    expect(classifyFailure(apiError(undefined, {}, true), context)).toMatchObject({ kind: 'network', retryable: true });
    expect(classifyFailure(new Error('x'), { ...context, timedOut: true })).toMatchObject({ kind: 'timeout', retryable: true });
    expect(classifyFailure(new Error('x'), { ...context, timedOut: true, aborted: true })).toMatchObject({ kind: 'aborted', retryable: false });
  });

  it('reads Retry-After in seconds, milliseconds and as an HTTP date', () => {
    expect(parseRetryAfter({ 'Retry-After': '1.5' }, context.now)).toBe(1500);
    expect(parseRetryAfter({ 'retry-after-ms': '250' }, context.now)).toBe(250);
    expect(parseRetryAfter({ 'retry-after': 'Thu, 01 Jan 2026 00:00:03 GMT' }, context.now)).toBe(3000);
    expect(parseRetryAfter({ 'retry-after': 'soon' }, context.now)).toBeUndefined();
  });

  it('doubles the backoff up to its cap, honors Retry-After, and refuses an absurd wait', () => {
    const server = { kind: 'server' as const, retryable: true };
    expect([1, 2, 3].map((n) => retryDelayMs(n, server, DEFAULT_RETRY_POLICY, 0))).toEqual([1000, 2000, 4000]);
    expect(retryDelayMs(10, server, DEFAULT_RETRY_POLICY, 0)).toBe(DEFAULT_RETRY_POLICY.maxDelayMs);
    expect(retryDelayMs(1, server, DEFAULT_RETRY_POLICY, 0.999)).toBeLessThanOrEqual(1250);
    expect(retryDelayMs(1, { ...server, retryAfterMs: 7000 }, DEFAULT_RETRY_POLICY, 0)).toBe(7000);
    expect(retryDelayMs(1, { ...server, retryAfterMs: 3_600_000 }, DEFAULT_RETRY_POLICY, 0)).toBeNull();
  });
});
