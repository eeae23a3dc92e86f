import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { serve, type ServerType } from '@hono/node-server';
import { StrataError } from '../core/errors.ts';
import { LedgerReader } from '../ledger/ledger-reader.ts';
import { generateToken, isLoopback } from './server/access-guard.ts';
import { createDashboardApp } from './server/dashboard-app.ts';

export interface StartDashboardOptions {
  ledgerPath: string;
  /** Default 127.0.0.1. Any other address requires a token on every request. */
  host?: string;
  /** Default 4040; 0 picks a free port. */
  port?: number;
  /** The token for a non-loopback address; default STRATA_TOKEN, else a fresh random one. */
  token?: string;
  pollMs?: number;
}

/** A running dashboard. */
export interface RunningDashboard {
  /** The URL to open; includes `?token=` when one is required. */
  url: string;
  host: string;
  port: number;
  token: string | null;
  close(): Promise<void>;
}

/** The port is taken, or the address cannot be bound. */
export class DashboardListenError extends StrataError {
  constructor(message: string, details: Record<string, unknown>) {
    super('dashboard_listen_failed', message, { details });
  }
}

/**
 * Serve the dashboard for a ledger until `close()`.
 *
 * @example
 * const dashboard = await startDashboard({ ledgerPath: '.strata/ledger.db', port: 0 });
 * console.log(dashboard.url);
 * await dashboard.close();
 */
export async function startDashboard(options: StartDashboardOptions): Promise<RunningDashboard> {
  const host = options.host ?? '127.0.0.1';
  const loopback = isLoopback(host);
  const token = loopback ? null : (options.token ?? (process.env.STRATA_TOKEN || generateToken()));
  const reader = LedgerReader.open(options.ledgerPath);
  const { app, close: closeApp } = createDashboardApp({ reader, token, ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}) });
  let server: ServerType;
  const port = await new Promise<number>((resolve, reject) => {
    server = serve({ fetch: app.fetch, hostname: host, port: options.port ?? 4040 }, (info) => resolve(info.port));
    server.once('error', (error: NodeJS.ErrnoException) => {
      closeApp();
      reader.close();
      const why = error.code === 'EADDRINUSE' ? `port ${options.port} is in use: pass --port with another number (or 0 for any free port)` : error.message;
      reject(new DashboardListenError(`cannot serve on ${host}:${options.port}: ${why}`, { host, port: options.port, code: error.code }));
    });
  });
  const shown = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host === '0.0.0.0' || host === '::' ? hostname() : host;
  const address = (server!.address() as AddressInfo | null)?.address ?? host;
  return {
    url: `http://${shown}:${port}/${token ? `?token=${encodeURIComponent(token)}` : ''}`,
    host: address,
    port,
    token,
    close: () =>
      new Promise<void>((resolve, reject) => {
        closeApp();
        // Server-sent event streams would hold the server open; end them.
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
        server.close((error) => {
          reader.close();
          if (error) reject(error);
          else resolve();
        });
      }),
  };
}
