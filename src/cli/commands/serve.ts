import { startDashboard, type RunningDashboard } from '../../dashboard/start-dashboard.ts';
import { StudyStateError } from '../../core/errors.ts';
import { ledgerPathFor } from './report.ts';

export interface ServeCommandOptions {
  cwd: string;
  host?: string;
  port?: string;
  ledger?: string;
  signal: AbortSignal;
  out?: NodeJS.WritableStream;
  /** Called once the server listens (tests use it to find the URL). */
  onListening?: (dashboard: RunningDashboard) => void;
}

/**
 * `strata serve`: the live dashboard for every study in the repository's
 * ledger, read-only, until Ctrl-C. Loopback only unless --host says otherwise,
 * and then every request needs the token printed here (or STRATA_TOKEN).
 */
export async function serveCommand(options: ServeCommandOptions): Promise<number> {
  const out = options.out ?? process.stdout;
  const port = options.port === undefined ? 4040 : Number(options.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new StudyStateError(`--port must be a number from 0 to 65535, got ${JSON.stringify(options.port)}`);
  const dashboard = await startDashboard({ ledgerPath: await ledgerPathFor(options.cwd, options.ledger), host: options.host ?? '127.0.0.1', port });
  out.write(`strata dashboard: ${dashboard.url}\n`);
  if (dashboard.token) {
    out.write(`  bound to ${options.host}: every request needs the token (in the URL above, or the header Authorization: Bearer <token>)${process.env.STRATA_TOKEN ? ' — taken from STRATA_TOKEN' : ''}\n`);
  }
  out.write('  read-only · updates live while studies run · Ctrl-C to stop\n');
  options.onListening?.(dashboard);
  await new Promise<void>((resolve) => {
    if (options.signal.aborted) resolve();
    options.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await dashboard.close();
  return 0;
}
