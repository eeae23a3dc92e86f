import { open, realpath, stat } from 'node:fs/promises';
import { dirname, sep } from 'node:path';
import { Hono, type Context } from 'hono';
import type { StudyRecord } from '../../ledger/records.ts';
import type { LedgerReader } from '../../ledger/ledger-reader.ts';
import { candidateDetailView } from '../views/candidate-view.ts';
import { evolveView, type EvolveView } from '../views/evolve-view.ts';
import { pipelineView } from '../views/pipeline-view.ts';
import { researchView } from '../views/research-view.ts';
import { isFinishedStatus, researchSummaryView, researchTrialPage } from '../views/research-summary-view.ts';
import { TRIAL_SORT_KEYS, type TrialPageQuery, type TrialSortKey } from '../../ledger/stores/trial-query-store.ts';
import { studyListView } from '../views/study-list-view.ts';
import { trialDetailView } from '../views/trial-view.ts';
import { frontHeatmapSvg } from '../render/front-heatmap-svg.ts';
import { lineageSvg } from '../render/lineage-svg.ts';
import { contributionsChartSvg } from '../render/contributions-chart-svg.ts';
import { verifyView } from '../views/verify-view.ts';
import { accessGuard } from './access-guard.ts';
import { LiveUpdates } from './live-updates.ts';
import { mountOversightRoutes } from './oversight-routes.ts';
import { generateToken } from './access-guard.ts';
import { securityHeaders } from './security-headers.ts';
import { loadStaticAssets } from './static-assets.ts';

export interface DashboardAppOptions {
  reader: LedgerReader;
  /** Required on every request when set (the server is bound beyond loopback). */
  token: string | null;
  /** How often the ledger is checked for changes. */
  pollMs?: number;
  /** The token the write endpoints need in a header (oversight-routes.ts); default a fresh random one. */
  writeToken?: string;
}

/** The most of a trial log the full-log view sends: its end, where the failure is. */
const LOG_LIMIT_BYTES = 4 * 1024 * 1024;
/** The end of a running trial's log shown on its page. */
const LIVE_TAIL_BYTES = 16 * 1024;

/** Client-side routes: each serves the same page, whose script reads the path. */
const PAGES = ['/', '/study/:id', '/study/:id/trial/:seq', '/study/:id/candidate/:idx'];

/**
 * The dashboard as a Hono app: a JSON API over a read-only ledger, the
 * static front end, and server-sent events when the ledger changes. Only
 * GET and HEAD exist; nothing here writes.
 *
 * @example
 * const { app, close } = createDashboardApp({ reader: LedgerReader.open(path), token: null });
 */
export function createDashboardApp(options: DashboardAppOptions): { app: Hono; close(): void } {
  const { reader } = options;
  const assets = loadStaticAssets();
  const live = new LiveUpdates(reader, options.pollMs);
  const app = new Hono();
  app.use('*', securityHeaders());
  app.use('*', accessGuard({ token: options.token }));
  app.use('*', async (c, next) => {
    // The oversight actions are the only writes, each guarded on its own (oversight-routes.ts).
    if (c.req.method === 'POST' && /^\/api\/studies\/\d+\/oversight\/[a-z-]+$/.test(c.req.path)) return next();
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') return c.text('strata serve is read-only\n', 405, { Allow: 'GET, HEAD' });
    return next();
  });

  mountOversightRoutes(app, { ledgerPath: reader.path, writeToken: options.writeToken ?? generateToken() });
  const index = assets.get('/assets/index.html')!;
  for (const page of PAGES) app.get(page, (c) => c.body(index.body, 200, { 'Content-Type': index.type }));
  app.get('/assets/*', (c) => {
    const asset = assets.get(c.req.path);
    if (!asset || c.req.path.endsWith('.html')) return c.text('not found\n', 404);
    return c.body(asset.body, 200, { 'Content-Type': asset.type, 'Cache-Control': 'no-cache' });
  });

  // An evolve view of 2,000 candidates × 200 examples takes a second or two to build; the page, its two figures and
  // its candidate pages each need it, so it is built once per ledger version (the token moves on every commit). While
  // such a study runs it commits many times a second: a view that was slow to build is served for a while after the
  // ledger moved (three times its build time, at most 10 s), so live pages do not keep the server rebuilding it.
  // A view built in under SLOW_VIEW_MS (any small study) is always as fresh as the ledger.
  const evolveViews = new Map<number, { version: string; view: EvolveView; builtAt: number; buildMs: number }>();
  /** The study's evolve view; `staleMs` > 0 when it is older than the ledger, and in how long a fresh one will be built. */
  const evolveViewOf = (study: StudyRecord, options: { needs?: (view: EvolveView) => boolean } = {}): { view: EvolveView; staleMs: number } => {
    const version = reader.version();
    const hit = evolveViews.get(study.id);
    if (hit && (options.needs?.(hit.view) ?? true)) {
      if (hit.version === version && hit.view.study.updated_at === study.updatedAt) return { view: hit.view, staleMs: 0 };
      const left = Math.min(10_000, hit.buildMs * 3) - (Date.now() - hit.builtAt);
      if (hit.buildMs >= SLOW_VIEW_MS && left > 0) return { view: hit.view, staleMs: left };
    }
    const started = Date.now();
    const view = evolveView(reader, study);
    evolveViews.set(study.id, { version, view, builtAt: Date.now(), buildMs: Date.now() - started });
    return { view, staleMs: 0 };
  };

  app.get('/api/studies', (c) => c.json(studyListView(reader)));
  app.get('/api/studies/:id', (c) =>
    withStudy(c, reader, (study) =>
      study.kind === 'evolve' ? c.json(evolveView(reader, study)) : study.kind === 'pipeline' ? c.json(pipelineView(reader, study)) : c.json(researchView(reader, study)),
    ),
  );
  // The study page of a long study: its summary (a thinned chart, `?since=` for the points changed after its cursor) and its table a page at a time.
  app.get('/api/studies/:id/summary', (c) =>
    withStudy(c, reader, (study) => {
      if (study.kind === 'evolve') {
        // A stale view says when to ask again: no ledger change may come to prompt the page.
        const { view, staleMs } = evolveViewOf(study);
        return c.json({ ...evolveSummary(view), ...(staleMs > 0 ? { refresh_after_ms: Math.ceil(staleMs) + 50 } : {}) });
      }
      if (study.kind !== 'research') return c.json(pipelineView(reader, study));
      const since = c.req.query('since');
      if (since !== undefined && !/^\d+$/.test(since)) return badRequest(c, `since must be an event number (the summary's cursor), not "${since}"`);
      const table = trialPageQuery(c.req.query());
      if (typeof table === 'string') return badRequest(c, table);
      return c.json(researchSummaryView(reader, study, { table, ...(since === undefined ? {} : { since: Number(since) }) }));
    }),
  );
  app.get('/api/studies/:id/trials', (c) =>
    withStudy(c, reader, (study) => {
      if (study.kind !== 'research') return notFound(c, `study ${study.name} is a${study.kind === 'evolve' ? 'n' : ''} ${study.kind} study: it has no trial table`);
      const query = trialPageQuery(c.req.query());
      return typeof query === 'string' ? badRequest(c, query) : c.json(researchTrialPage(reader, study, query));
    }),
  );
  app.get('/api/studies/:id/trials/:seq', (c) =>
    withStudy(c, reader, async (study) => {
      const view = trialDetailView(reader, study, Number(c.req.param('seq')));
      if (!view) return notFound(c, `study ${study.name} has no trial #${c.req.param('seq')}`);
      const trial = reader.trialBySeq(study.id, view.trial.seq)!;
      // The ledger gets the tail when a trial ends; while it runs, read the file.
      if (trial.status === 'running' && trial.logPath) view.log_tail = await readLogEnd(trial.logPath, dirname(reader.path), LIVE_TAIL_BYTES);
      return c.json(view);
    }),
  );
  app.get('/api/studies/:id/trials/:seq/log', (c) =>
    withStudy(c, reader, async (study) => {
      const trial = reader.trialBySeq(study.id, Number(c.req.param('seq')));
      if (!trial?.logPath) return notFound(c, 'this trial has no log file');
      const text = await readLogEnd(trial.logPath, dirname(reader.path));
      if (text === null) return notFound(c, `the log file ${trial.logPath} is gone (logs live under .strata/logs/)`);
      // Shown as plain text only: no sniffing, no scripts even if opened directly.
      return c.body(text, 200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Security-Policy': "default-src 'none'; sandbox" });
    }),
  );
  app.get('/api/studies/:id/candidates/:idx', (c) =>
    withStudy(c, reader, (study) => {
      const idx = Number(c.req.param('idx'));
      // A candidate that joined after the view was built needs a fresh one.
      const view = study.kind === 'evolve' ? candidateDetailView(reader, study, idx, evolveViewOf(study, { needs: (built) => built.candidates.some((candidate) => candidate.idx === idx) }).view) : undefined;
      return view ? c.json(view) : notFound(c, `study ${study.name} has no candidate ${c.req.param('idx')}`);
    }),
  );
  app.get('/api/studies/:id/figures/:figure', (c) =>
    withStudy(c, reader, (study) => {
      const figure = c.req.param('figure');
      if (study.kind === 'research' && figure === 'contributions.svg') {
        // A study no `strata verify` measured has no chart: 204, and the page shows none.
        const verify = verifyView(reader, study);
        return verify ? c.body(contributionsChartSvg(verify, { title: study.name, showTitle: false }).html, 200, { 'Content-Type': 'image/svg+xml; charset=utf-8' }) : c.body(null, 204);
      }
      if (study.kind !== 'evolve' || (figure !== 'lineage.svg' && figure !== 'front.svg')) return notFound(c, `no figure ${figure} for study ${study.name}`);
      const { view } = evolveViewOf(study);
      const link = (idx: number) => `/study/${study.id}/candidate/${idx}`;
      const svg = figure === 'lineage.svg' ? lineageSvg(view.candidates, view.best?.idx ?? null, link) : frontHeatmapSvg(view, link);
      return c.body(svg.html, 200, { 'Content-Type': 'image/svg+xml; charset=utf-8' });
    }),
  );
  app.get('/api/live', (c) => live.handle(c));
  app.notFound((c) => notFound(c, `no page at ${c.req.path}`));
  app.onError((error, c) => {
    process.stderr.write(`strata serve: ${c.req.method} ${c.req.path}: ${error.stack ?? error.message}\n`);
    return c.json({ error: error.message }, 500);
  });
  return { app, close: () => live.close() };
}

/** An evolve view that took this long to build may be served a little after the ledger moved on (see evolveViewOf). */
const SLOW_VIEW_MS = 250;

/** Proposals the evolve page lists (the newest); the summary says how many there are. */
const PAGE_PROPOSALS = 200;

/**
 * The evolve page's document: the view without the score matrix (the page
 * draws the front from front.svg) and with the newest PAGE_PROPOSALS
 * proposals. 2,000 candidates × 200 examples made the whole view 5.8 MB.
 */
function evolveSummary(view: EvolveView): EvolveView & { proposals_total: number; accepted_total: number } {
  return {
    ...view,
    front: { examples: view.front.examples, scores: [], holds: [] },
    proposals: view.proposals.slice(-PAGE_PROPOSALS),
    proposals_total: view.proposals.length,
    accepted_total: view.proposals.filter((proposal) => proposal.accepted).length,
  };
}

/** The most rows one page of the trial table holds. */
const PAGE_LIMIT_MAX = 500;

/** `?page=&limit=&status=&sort=&order=&q=` as a page query, or what is wrong with it. */
export function trialPageQuery(params: Record<string, string>): TrialPageQuery | string {
  const page = params.page ?? '1';
  const limit = params.limit ?? '50';
  if (!/^\d+$/.test(page) || Number(page) < 1) return `page must be a whole number from 1, not "${page}"`;
  if (!/^\d+$/.test(limit) || Number(limit) < 1 || Number(limit) > PAGE_LIMIT_MAX) return `limit must be a whole number from 1 to ${PAGE_LIMIT_MAX}, not "${limit}"`;
  const sort = params.sort ?? 'seq';
  if (!(TRIAL_SORT_KEYS as readonly string[]).includes(sort)) return `sort must be one of ${TRIAL_SORT_KEYS.join(', ')}, not "${sort}"`;
  const order = params.order ?? (sort === 'seq' ? 'desc' : 'asc');
  if (order !== 'asc' && order !== 'desc') return `order must be asc or desc, not "${order}"`;
  const status = params.status && params.status !== 'all' ? params.status : null;
  if (status !== null && !isFinishedStatus(status)) return `status must be all or one of keep, discard, crash, timeout, invalid, interrupted, not "${status}"`;
  return { page: Number(page), limit: Number(limit), sort: sort as TrialSortKey, descending: order === 'desc', status, text: params.q ?? null };
}

function badRequest(c: Context, message: string): Response {
  return c.json({ error: message }, 400);
}

function notFound(c: Context, message: string): Response {
  return c.req.path.startsWith('/api/') ? c.json({ error: message }, 404) : c.text(`${message}\n`, 404);
}

function withStudy(c: Context, reader: LedgerReader, handle: (study: StudyRecord) => Response | Promise<Response>): Response | Promise<Response> {
  const id = Number(c.req.param('id'));
  const study = Number.isInteger(id) ? reader.study(id) : undefined;
  return study ? handle(study) : notFound(c, `no study with id ${c.req.param('id')}`);
}

/**
 * The last LOG_LIMIT_BYTES of a trial log, or null when it is gone. The path
 * comes from the ledger; it is read only when it lies under the ledger's own
 * folder (.strata/), so a tampered ledger cannot make the server read /etc.
 */
async function readLogEnd(path: string, stateDir: string, limit = LOG_LIMIT_BYTES): Promise<string | null> {
  let real: string;
  let root: string;
  try {
    [real, root] = await Promise.all([realpath(path), realpath(stateDir)]);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  if (!real.startsWith(root + sep)) return null;
  const size = (await stat(real)).size;
  const start = Math.max(0, size - limit);
  const handle = await open(real, 'r');
  try {
    const buffer = Buffer.alloc(size - start);
    await handle.read(buffer, 0, buffer.length, start);
    const text = buffer.toString('utf8');
    return start > 0 ? `[… the first ${start} bytes are not shown …]\n${text.slice(text.indexOf('\n') + 1)}` : text;
  } finally {
    await handle.close();
  }
}
