/**
 * Notifications: a webhook (JSON POST with a Slack/Discord/ntfy-compatible
 * `text` field) or a command (the event as JSON on stdin). Each is sent in
 * the background with retries and backoff honoring Retry-After, recorded in
 * the ledger as delivered or failed (with why), and never blocks or crashes
 * the loop. The webhook URL is a secret: it is read from the environment
 * variable the config names and appears in no log, message or ledger row;
 * targets are named by their label (`webhook STRATA_WEBHOOK_URL`).
 */
import { spawn } from 'node:child_process';
import type { NotifyTarget, NotifyTopic } from '../core/config/oversight-config.ts';
import type { Ledger } from '../ledger/ledger.ts';
import { backoffMs, isRetryableStatus, retryAfterMs } from './retry-delay.ts';

/** What a notification says; `text` is the line a chat shows. */
export interface NotificationEvent {
  topic: NotifyTopic;
  study: string;
  text: string;
  [key: string]: unknown;
}

export interface NotifierOptions {
  ledger: Ledger;
  studyId: number;
  studyName: string;
  targets: readonly NotifyTarget[];
  env?: NodeJS.ProcessEnv;
  /** Tries per delivery (default 4). */
  attempts?: number;
  /** First backoff in ms (default 500; doubles each retry). */
  backoffBaseMs?: number;
  /** One try's deadline in ms (default 10 s). */
  timeoutMs?: number;
}

type Try = { ok: true } | { ok: false; retry: boolean; detail: string; waitMs?: number };

/**
 * @example
 * const notifier = new Notifier({ ledger, studyId, studyName: 'tiny-lm', targets: config.oversight.notify });
 * notifier.notify('new_best', '#7 is the new best (val_bpb 0.97)');
 * await notifier.flush(10_000);
 */
export class Notifier {
  private readonly options: NotifierOptions;
  private readonly pending = new Set<Promise<void>>();

  constructor(options: NotifierOptions) {
    this.options = options;
  }

  /** Send `topic` to every target that listens for it, in the background. */
  notify(topic: NotifyTopic, text: string, data: Record<string, unknown> = {}): void {
    const event: NotificationEvent = { ...data, topic, study: this.options.studyName, text: `Strata · ${this.options.studyName}: ${text}` };
    for (const target of this.options.targets) {
      if (!target.on.includes(topic)) continue;
      const delivery = this.deliver(target, event)
        .catch(() => {
          // deliver records its own failures; this only keeps an unexpected one from becoming an unhandled rejection.
        })
        .finally(() => this.pending.delete(delivery));
      this.pending.add(delivery);
    }
  }

  /** Wait (at most `timeoutMs`) for deliveries in flight: called once the study has ended, before the process exits. */
  async flush(timeoutMs: number): Promise<void> {
    if (this.pending.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all([...this.pending]), new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
  }

  private async deliver(target: NotifyTarget, event: NotificationEvent): Promise<void> {
    const attempts = this.options.attempts ?? 4;
    let last: Try = { ok: false, retry: false, detail: 'not tried' };
    let tries = 0;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      tries = attempt;
      last = target.kind === 'webhook' ? await this.post(target.urlEnv, event) : await this.run(target.command, event);
      if (last.ok || !last.retry || attempt === attempts) break;
      await sleep(last.waitMs ?? backoffMs(attempt, this.options.backoffBaseMs ?? 500));
    }
    this.record(event.topic, target.label, last.ok ? 'delivered' : 'failed', tries, last.ok ? null : last.detail);
  }

  private async post(urlEnv: string, event: NotificationEvent): Promise<Try> {
    const url = (this.options.env ?? process.env)[urlEnv];
    if (!url) return { ok: false, retry: false, detail: `${urlEnv} is not set: export the webhook URL in it before starting the study` };
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(event),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
        redirect: 'error',
      });
      await response.body?.cancel();
      if (response.ok) return { ok: true };
      const wait = retryAfterMs(response.headers.get('retry-after'), Date.now());
      return { ok: false, retry: isRetryableStatus(response.status), detail: `HTTP ${response.status}`, ...(wait !== undefined ? { waitMs: wait } : {}) };
    } catch (error) {
      // Never the error's message: fetch's messages and causes can carry the URL (the secret).
      const code = (error as { cause?: { code?: unknown } }).cause?.code ?? (error as { name?: unknown }).name;
      return { ok: false, retry: true, detail: `request failed (${typeof code === 'string' ? code : 'network error'})` };
    }
  }

  private run(command: string, event: NotificationEvent): Promise<Try> {
    return new Promise((resolve) => {
      // The user's own command line from strata.yaml, run as they wrote it; the event goes on stdin, never into the command.
      const child = spawn('/bin/sh', ['-c', command], { stdio: ['pipe', 'ignore', 'pipe'], detached: true });
      let stderr = '';
      const timer = setTimeout(() => {
        try {
          if (child.pid) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }, this.options.timeoutMs ?? 10_000);
      child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-500)));
      child.stdin.on('error', () => {}); // a command that does not read stdin closes it early
      child.stdin.end(`${JSON.stringify(event)}\n`);
      child.on('error', (error) => {
        clearTimeout(timer);
        resolve({ ok: false, retry: false, detail: `could not start: ${error.message}` });
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (code === 0) resolve({ ok: true });
        else resolve({ ok: false, retry: true, detail: `exited with ${code ?? signal}${stderr.trim() ? `: ${stderr.trim().split('\n').at(-1)}` : ''}` });
      });
    });
  }

  private record(topic: string, target: string, outcome: 'delivered' | 'failed', attempts: number, detail: string | null): void {
    try {
      const { ledger, studyId } = this.options;
      if (ledger.isOpen) ledger.record('oversight.notification', { studyId, topic, target, outcome, attempts, detail }, { studyId });
    } catch {
      // A notification must never crash the loop; a ledger that cannot be written has bigger news of its own.
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
