// Studies of 20,000 trials (issue 17): the read paths measured side by side on the
// same ledgers, in one run, this checkout against a baseline checkout (the commit
// before the change: `git worktree add /tmp/strata-base db6eecd`, or any clone with
// node_modules linked in). Ledgers come from bench/large-ledger.ts: a research
// study of 20,000 trials and an evolve study of 2,000 candidates x 200 examples.
//
// Run: npx node bench/large-study.ts --baseline /tmp/strata-base [--dir /tmp/large20k] [--evolve-dir /tmp/large-evolve] [--repeats 3]
// Prints a Markdown table (median of the repeats, baseline and this checkout interleaved).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium, type Page } from 'playwright-core';
import { generateLargeEvolveLedger, generateLargeLedger } from './large-ledger.ts';

const { values } = parseArgs({
  options: {
    baseline: { type: 'string' },
    dir: { type: 'string', default: '/tmp/large20k' },
    'evolve-dir': { type: 'string', default: '/tmp/large-evolve' },
    repeats: { type: 'string', default: '3' },
    chromium: { type: 'string', default: process.env.STRATA_CHROMIUM ?? '/usr/bin/chromium' },
  },
});
if (!values.baseline || !existsSync(join(values.baseline, 'src/cli/run.ts'))) {
  throw new Error('give --baseline <checkout of the commit before> (e.g. git worktree add /tmp/strata-base db6eecd && ln -s "$PWD/node_modules" /tmp/strata-base/)');
}
const roots = { before: resolve(values.baseline), after: resolve(import.meta.dirname, '..') };
const repeats = Number(values.repeats);
const researchDir = values.dir!;
const evolveDir = values['evolve-dir']!;
if (!existsSync(join(researchDir, '.strata/ledger.db'))) generateLargeLedger(researchDir, { trials: 20_000, keepEvery: 40 });
if (!existsSync(join(evolveDir, '.strata/ledger.db'))) generateLargeEvolveLedger(evolveDir, { candidates: 2000, examples: 200 });

type Side = keyof typeof roots;
/** Wall time; for a command also its CPU time (user + system), which a shared machine's load inflates far less. */
type Sample = { ms: number; cpuMs?: number; bytes?: number; note?: string };
const rows: { what: string; before: Sample[]; after: Sample[] }[] = [];
const median = (samples: Sample[]) => [...samples].sort((a, b) => a.ms - b.ms)[Math.floor(samples.length / 2)]!;

/** Measure `run` on both sides, interleaved, `repeats` times each. */
async function measure(what: string, run: (side: Side) => Promise<Sample> | Sample, times = repeats): Promise<void> {
  const row = { what, before: [] as Sample[], after: [] as Sample[] };
  for (let i = 0; i < times; i++) {
    for (const side of ['before', 'after'] as const) row[side].push(await run(side));
  }
  rows.push(row);
  process.stderr.write(`${what}: before ${show(median(row.before))}, after ${show(median(row.after))}\n`);
}

function show(sample: Sample): string {
  if (sample.note) return sample.note;
  const seconds = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
  const time = `${seconds(sample.ms)}${sample.cpuMs === undefined ? '' : ` (${seconds(sample.cpuMs)} CPU)`}`;
  return sample.bytes === undefined ? time : `${time}, ${sample.bytes >= 1e6 ? `${(sample.bytes / 1e6).toFixed(2)} MB` : `${(sample.bytes / 1e3).toFixed(1)} kB`}`;
}

/** Run the side's `strata` (from its sources, as a clone does); GNU time, where installed, gives its CPU time. */
function cli(side: Side, cwd: string, ...args: string[]): Sample {
  const timer = existsSync('/usr/bin/time') ? ['/usr/bin/time', '-f', 'cpu %U %S'] : [];
  const command = [...timer, process.execPath, join(roots[side], 'bin/strata.js'), ...args];
  const started = performance.now();
  const result = spawnSync(command[0]!, command.slice(1), { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 1 << 28 });
  const ms = performance.now() - started;
  if (result.status !== 0) throw new Error(`${side}: strata ${args.join(' ')} failed: ${result.stderr}`);
  const cpu = /cpu ([\d.]+) ([\d.]+)\s*$/.exec(result.stderr);
  return { ms, bytes: Buffer.byteLength(result.stdout), ...(cpu ? { cpuMs: (Number(cpu[1]) + Number(cpu[2])) * 1000 } : {}) };
}

// 1. The command line.
await measure('`strata --version` (node start + CLI import)', (side) => {
  const { bytes: _bytes, ...sample } = cli(side, researchDir, '--version');
  return sample;
});
await measure('`strata status`, 20,000 trials', (side) => {
  const { bytes: _bytes, ...sample } = cli(side, researchDir, 'status');
  return sample;
});
const out = mkdtempSync(join(tmpdir(), 'strata-bench-report-'));
await measure('`strata report`, 20,000 trials (time, file size)', (side) => {
  const file = join(out, `${side}.html`);
  const { ms, cpuMs } = cli(side, researchDir, 'report', '--out', file);
  return { ms, ...(cpuMs === undefined ? {} : { cpuMs }), bytes: statSync(file).size };
});

// 2. The study API, in process (Hono's app.request: no network, no browser).
type App = { app: { request(url: string): Response | Promise<Response> }; close(): void };
const apps = {} as Record<Side, { research: App; evolve: App; readers: { close(): void }[] }>;
for (const side of ['before', 'after'] as const) {
  const { LedgerReader } = (await import(join(roots[side], 'src/ledger/ledger-reader.ts'))) as typeof import('../src/ledger/ledger-reader.ts');
  const { createDashboardApp } = (await import(join(roots[side], 'src/dashboard/server/dashboard-app.ts'))) as typeof import('../src/dashboard/server/dashboard-app.ts');
  const research = LedgerReader.open(join(researchDir, '.strata/ledger.db'));
  const evolve = LedgerReader.open(join(evolveDir, '.strata/ledger.db'));
  apps[side] = { research: createDashboardApp({ reader: research, token: null }), evolve: createDashboardApp({ reader: evolve, token: null }), readers: [research, evolve] };
}
async function get(app: App, url: string): Promise<Sample> {
  const started = performance.now();
  const response = await app.app.request(url);
  const body = await response.arrayBuffer();
  const ms = performance.now() - started;
  return response.ok ? { ms, bytes: body.byteLength } : { ms, note: `HTTP ${response.status}` };
}
const page1 = 'page=1&limit=50&sort=seq&order=desc';
await measure('study page data: `/api/studies/1` before, `/summary` with the first table page after', (side) =>
  get(apps[side].research, side === 'before' ? '/api/studies/1' : `/api/studies/1/summary?${page1}`),
);
await measure('a table page (filter crash, sort by metric): client-side before, `/trials?…` after', (side) =>
  side === 'before' ? { ms: 0, note: 'in the browser, over the 20,000 rows it was sent' } : get(apps.after.research, '/api/studies/1/trials?page=2&limit=50&status=crash&sort=metric&order=asc'),
);
const { Ledger } = await import('../src/ledger/ledger.ts');
const ledger = Ledger.openForReading(join(researchDir, '.strata/ledger.db'));
const cursor = ledger.trialQueries.lastEventId(1);
// About the last two trials' events (queued, started, measured, finished): what a live update after them carries.
const sinceTwo = cursor - 9;
await measure('a live update after two trials: full refetch before, `?since=` after', (side) =>
  get(apps[side].research, side === 'before' ? '/api/studies/1' : `/api/studies/1/summary?since=${sinceTwo}&${page1}`),
);
await measure('study list `/api/studies`', (side) => get(apps[side].research, '/api/studies'));

// 3. The scheduler's snapshot (src/research/scheduler.ts, not changed here): every planner turn reads every trial.
const timed = (run: () => unknown) => {
  const samples: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const started = performance.now();
    run();
    samples.push(performance.now() - started);
  }
  return samples.sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;
};
const snapshotRead = timed(() => ledger.trials(1));
const countsRead = timed(() => ledger.trialQueries.counts(1));
ledger.close();

// 4. Evolve, 2,000 candidates x 200 examples: as the page asks, a fresh server each time (nothing built yet),
// the page's data first, then its two figures and a candidate page.
const evolveRows = ['evolve page data: `/api/studies/1` before, `/summary` after (a fresh server)', 'evolve Pareto heatmap `front.svg` (after the page data)', 'evolve lineage `lineage.svg`', 'evolve candidate page `/candidates/1500`'].map((what) => ({ what, before: [] as Sample[], after: [] as Sample[] }));
for (let i = 0; i < repeats; i++) {
  for (const side of ['before', 'after'] as const) {
    const { LedgerReader } = (await import(join(roots[side], 'src/ledger/ledger-reader.ts'))) as typeof import('../src/ledger/ledger-reader.ts');
    const { createDashboardApp } = (await import(join(roots[side], 'src/dashboard/server/dashboard-app.ts'))) as typeof import('../src/dashboard/server/dashboard-app.ts');
    const reader = LedgerReader.open(join(evolveDir, '.strata/ledger.db'));
    const app = createDashboardApp({ reader, token: null });
    const urls = [side === 'before' ? '/api/studies/1' : '/api/studies/1/summary', '/api/studies/1/figures/front.svg', '/api/studies/1/figures/lineage.svg', '/api/studies/1/candidates/1500'];
    for (const [index, url] of urls.entries()) evolveRows[index]![side].push(await get(app, url));
    app.close();
    reader.close();
  }
}
rows.push(...evolveRows);
for (const side of ['before', 'after'] as const) {
  apps[side].research.close();
  apps[side].evolve.close();
  for (const reader of apps[side].readers) reader.close();
}

// 5. Chromium: the study page until its table and chart are drawn, and a status filter answered.
const browser = await chromium.launch({ executablePath: values.chromium, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
const servers = {} as Record<Side, { research: { url: string; close(): Promise<void> }; evolve: { url: string; close(): Promise<void> } }>;
for (const side of ['before', 'after'] as const) {
  const { startDashboard } = (await import(join(roots[side], 'src/dashboard/start-dashboard.ts'))) as typeof import('../src/dashboard/start-dashboard.ts');
  servers[side] = {
    research: await startDashboard({ ledgerPath: join(researchDir, '.strata/ledger.db'), port: 0 }),
    evolve: await startDashboard({ ledgerPath: join(evolveDir, '.strata/ledger.db'), port: 0 }),
  };
}
async function inPage<T>(run: (page: Page) => Promise<T>): Promise<T> {
  const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  try {
    return await run(page);
  } finally {
    await page.close();
  }
}
type Doc = { document: { querySelectorAll(selector: string): ArrayLike<{ dataset: Record<string, string> }> } };
await measure('Chromium: research study page until table rows and chart are drawn', (side) =>
  inPage(async (page) => {
    const started = performance.now();
    await page.goto(`${servers[side].research.url}study/1`);
    await page.locator('#trials-table tbody tr').first().waitFor({ timeout: 120_000 });
    await page.locator('#progress-chart canvas').waitFor({ timeout: 120_000 });
    return { ms: performance.now() - started };
  }),
);
await measure('Chromium: then the crash filter answered', (side) =>
  inPage(async (page) => {
    await page.goto(`${servers[side].research.url}study/1`);
    await page.locator('#trials-table tbody tr').first().waitFor({ timeout: 120_000 });
    const started = performance.now();
    await page.locator('.chip[data-status="crash"]').click();
    await page.waitForFunction(() => {
      const rows = Array.from((globalThis as unknown as Doc).document.querySelectorAll('#trials-table tbody tr'));
      return rows.length > 0 && rows.every((row) => row.dataset.status === 'crash');
    }, undefined, { timeout: 120_000 });
    return { ms: performance.now() - started };
  }),
);
await measure('Chromium: evolve page until lineage and heatmap are drawn', (side) =>
  inPage(async (page) => {
    const started = performance.now();
    await page.goto(`${servers[side].evolve.url}study/1`);
    await page.locator('#lineage svg').waitFor({ timeout: 120_000 });
    await page.locator('#front svg, #front p').first().waitFor({ timeout: 120_000 });
    const failed = await page.locator('#front p').count();
    return { ms: performance.now() - started, ...(failed ? { note: `${((performance.now() - started) / 1000).toFixed(2)} s, heatmap failed: ${await page.locator('#front p').textContent()}` } : {}) };
  }),
);
await browser.close();
for (const side of ['before', 'after'] as const) {
  await servers[side].research.close();
  await servers[side].evolve.close();
}

const commit = (root: string) => spawnSync('git', ['-C', root, 'log', '--format=%h', '-1'], { encoding: 'utf8' }).stdout.trim();
const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(`\nbaseline ${commit(roots.before)} vs ${commit(roots.after)} · median of ${repeats} · load average ${load}\n`);
console.log('| measured | before | after | ratio |');
console.log('| --- | ---: | ---: | ---: |');
for (const row of rows) {
  const [before, after] = [median(row.before), median(row.after)];
  const cpu = before.cpuMs && after.cpuMs ? ` (CPU ${(before.cpuMs / after.cpuMs).toFixed(1)}×)` : '';
  const ratio = before.note || after.note || after.ms === 0 ? '' : `${(before.ms / after.ms).toFixed(1)}×${cpu}${before.bytes && after.bytes ? ` · ${(before.bytes / after.bytes).toFixed(1)}× smaller` : ''}`;
  console.log(`| ${row.what} | ${show(before)} | ${show(after)} | ${ratio} |`);
}
console.log(`\nThe research scheduler's snapshot (not changed) reads every trial each planner turn: ${snapshotRead.toFixed(0)} ms at 20,000 trials; the counts it derives from them take ${countsRead.toFixed(1)} ms as one SQL query.`);
