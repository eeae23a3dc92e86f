/**
 * A signal for one model call: aborts when the caller's signal does or when
 * the per-call timeout passes. Unlike `AbortSignal.timeout` + `AbortSignal.any`,
 * its timer and listener are released as soon as the call ends (`dispose`),
 * so thousands of calls leave nothing pending behind them.
 *
 * @example
 * const deadline = callDeadline(request.signal, 120_000);
 * try { await generateText({ ..., abortSignal: deadline.signal }); } finally { deadline.dispose(); }
 */
export function callDeadline(parent: AbortSignal | undefined, timeoutMs: number): { signal: AbortSignal; timedOut(): boolean; dispose(): void } {
  const controller = new AbortController();
  let expired = false;
  const onParentAbort = () => controller.abort(parent!.reason);
  if (parent?.aborted) controller.abort(parent.reason);
  else parent?.addEventListener('abort', onParentAbort, { once: true });
  const timer = setTimeout(() => {
    expired = true;
    controller.abort(new DOMException(`the model call took longer than ${timeoutMs}ms`, 'TimeoutError'));
  }, timeoutMs);
  return {
    signal: controller.signal,
    timedOut: () => expired,
    dispose() {
      clearTimeout(timer);
      parent?.removeEventListener('abort', onParentAbort);
    },
  };
}
