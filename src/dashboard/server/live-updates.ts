import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { errorMessage } from '../../core/errors.ts';
import type { LedgerReader } from '../../ledger/ledger-reader.ts';

/**
 * Tells open pages when the ledger changed, over server-sent events. One
 * poller checks SQLite's data_version (it moves whenever a running study
 * commits) and wakes every subscriber; pages then refetch what they show.
 */
export class LiveUpdates {
  private readonly reader: LedgerReader;
  private readonly listeners = new Set<(version: string) => void>();
  private readonly timer: NodeJS.Timeout;
  private version: string;

  constructor(reader: LedgerReader, intervalMs = 400) {
    this.reader = reader;
    this.version = reader.version();
    this.timer = setInterval(() => this.poll(), intervalMs);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
    this.listeners.clear();
  }

  /** The `GET /api/live` handler: an event `change` with the new version whenever the ledger changes. */
  handle(c: Context): Response {
    return streamSSE(c, async (stream) => {
      let wake: (() => void) | undefined;
      const pending: string[] = [];
      const listener = (version: string) => {
        pending.push(version);
        wake?.();
      };
      this.listeners.add(listener);
      stream.onAbort(() => {
        this.listeners.delete(listener);
        wake?.();
      });
      await stream.writeSSE({ event: 'hello', data: this.version, retry: 2000 });
      while (!stream.aborted && !stream.closed) {
        // Wait for a change, or 15s for a keep-alive comment that proxies will not cut.
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 15_000).unref();
        });
        wake = undefined;
        if (stream.aborted) break;
        const latest = pending.splice(0).at(-1);
        await stream.writeSSE(latest === undefined ? { event: 'ping', data: '' } : { event: 'change', data: latest });
      }
      this.listeners.delete(listener);
    });
  }

  private poll(): void {
    let next: string;
    try {
      next = this.reader.version();
    } catch (error) {
      // A busy or briefly locked database: try again at the next tick, but say so.
      process.stderr.write(`strata serve: could not read the ledger version: ${errorMessage(error)}\n`);
      return;
    }
    if (next === this.version) return;
    this.version = next;
    for (const listener of this.listeners) listener(next);
  }
}
