import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLargeEvolveLedger, generateLargeLedger } from '../../bench/large-ledger.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { LedgerReader } from '../../src/ledger/ledger-reader.ts';
import { renderReportHtml } from '../../src/dashboard/report/report-html.ts';
import { startDashboard, type RunningDashboard } from '../../src/dashboard/start-dashboard.ts';
import { StudyTrials, NO_RUN } from '../../src/study/study-trials.ts';
import { ARTIFACTS, describeInChromium, launchChromium } from './chromium.ts';

const TRIALS = 20_000;


/** The table's state once the page the server sent is drawn. */
async function tableReady(page: Page, attrs: Record<string, string> = {}): Promise<void> {
  const selector = `#trials[data-state="ready"]${Object.entries(attrs).map(([key, value]) => `[data-${key}="${value}"]`).join('')}`;
  await page.locator(selector).waitFor({ timeout: 20_000 });
}

describeInChromium('dashboard of a 20,000-trial study in Chromium', () => {
  let ledgerPath: string;
  let studyId: number;
  let counts: Record<string, number>;
  let bestSeq: number;
  let served: RunningDashboard;
  let browser: Awaited<ReturnType<typeof launchChromium>>;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-large-study-'));
    ({ ledgerPath, studyId } = generateLargeLedger(dir, { trials: TRIALS, keepEvery: 40 }));
    const ledger = Ledger.openForReading(ledgerPath);
    counts = ledger.trialQueries.counts(studyId);
    bestSeq = ledger.trial(ledger.study(studyId).bestTrialId!).seq;
    ledger.close();
    [served, browser] = await Promise.all([startDashboard({ ledgerPath, port: 0, pollMs: 100 }), launchChromium()]);
  }, 180_000);

  afterAll(async () => {
    await served?.close();
    await browser?.close();
  });

  it('draws one page of the table with its row count, and a thinned chart that keeps every keep and failure', async () => {
    const page = await browser.newPage();
    await page.goto(`${served.url}study/${studyId}`);
    await tableReady(page);
    expect(await page.locator('#trials-table tbody tr').count()).toBe(50);
    await expect(page.locator('#trials-count').textContent()).resolves.toBe('rows 1–50 of 20,000');
    expect(await page.locator('#trials').getAttribute('data-pages')).toBe('400');
    // Newest first: the last trial heads the first page.
    expect(await page.locator('#trials-table tbody tr').first().getAttribute('data-seq')).toBe(String(TRIALS - 1));

    const chart = page.locator('#progress-chart[data-points]');
    await chart.waitFor();
    await page.locator('#progress-chart canvas').waitFor();
    expect(await chart.getAttribute('data-trials')).toBe(String(TRIALS));
    expect(await chart.getAttribute('data-thinned')).toBe('true');
    const points = Number(await chart.getAttribute('data-points'));
    expect(points).toBeLessThan(TRIALS / 4);
    // Thinning drops discards only: every kept trial and every failure is still a point.
    expect(Number(await chart.getAttribute('data-keeps'))).toBe(counts.keep);
    expect(Number(await chart.getAttribute('data-failures'))).toBe((counts.crash ?? 0) + (counts.timeout ?? 0) + (counts.invalid ?? 0));
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-large-study.png'), fullPage: false });
    await page.close();
  });

  it('filters, searches, sorts and pages through the server', async () => {
    const page = await browser.newPage();
    await page.goto(`${served.url}study/${studyId}`);
    await tableReady(page);

    await page.locator('.chip[data-status="crash"]').click();
    await tableReady(page, { status: 'crash' });
    expect(await page.locator('#trials').getAttribute('data-total')).toBe(String(counts.crash));
    const statuses = await page.locator('#trials-table tbody tr').evaluateAll((rows) => rows.map((row) => (row as unknown as { dataset: { status: string } }).dataset.status));
    expect(statuses.length).toBe(Math.min(50, counts.crash!));
    expect(new Set(statuses)).toEqual(new Set(['crash']));
    await expect(page.locator('#trials-count').textContent()).resolves.toBe(`rows 1–${Math.min(50, counts.crash!)} of ${counts.crash} (of 20,000 trials)`);

    await page.locator('.chip[data-status="all"]').click();
    await tableReady(page, { status: 'all' });
    await page.locator('input.search').fill('experiment 12345:');
    await tableReady(page, { total: '1' });
    expect(await page.locator('#trials-table tbody tr').first().getAttribute('data-seq')).toBe('12345');
    await page.locator('input.search').fill('');
    await tableReady(page, { total: String(TRIALS) });

    // The metric, lower is better: ascending puts the best first.
    await page.locator('th[data-key="metric"]').click();
    await tableReady(page, { sort: 'metric desc' });
    await page.locator('th[data-key="metric"]').click();
    await tableReady(page, { sort: 'metric asc' });
    expect(await page.locator('#trials-table tbody tr').first().getAttribute('data-seq')).toBe(String(bestSeq));
    await page.locator('th[data-key="seq"]').click();
    await tableReady(page, { sort: 'seq desc' });

    await page.locator('.page-button[data-page="next"]').click();
    await tableReady(page, { page: '2' });
    expect(await page.locator('#trials-table tbody tr').first().getAttribute('data-seq')).toBe(String(TRIALS - 51));
    await page.locator('.page-button[data-page="last"]').click();
    await tableReady(page, { page: '400' });
    expect(await page.locator('#trials-table tbody tr').last().getAttribute('data-seq')).toBe('0');
    await page.close();
  });

  it('sends a live page only the points that changed', async () => {
    const page = await browser.newPage();
    const updates: { url: string; body: { progress: unknown; progress_since: { points: { seq: number }[] } | null } }[] = [];
    page.on('response', async (response) => {
      if (/\/summary\?since=/.test(response.url())) updates.push({ url: response.url(), body: await response.json() });
    });
    await page.goto(`${served.url}study/${studyId}`);
    await tableReady(page);
    await page.locator('#progress-chart[data-trials="20000"]').waitFor();

    // Two more trials finish while the page is open, written as the loop writes them.
    const ledger = Ledger.open(ledgerPath);
    const trials = new StudyTrials(ledger, studyId);
    for (const index of [0, 1]) {
      let trial = trials.queue({ role: 'candidate', proposer: 'agent', description: `late idea ${index}`, parentCommit: null, budgetMs: 300_000, seed: index, candidate: { commit: `${index}`.repeat(40), diff: '' } });
      trial = trials.start(trial, { worktree: null, logPath: null, executor: 'local', slot: 'slot-0' });
      if (index === 0) trials.finish(trial, 'crash', 'run', 'exit code 1', { ...NO_RUN, exitCode: 1, wallMs: 1000 });
      else trials.finish(trial, 'discard', 'run', 'not better', { ...NO_RUN, metrics: { val_bpb: 0.7 }, metric: 0.7, exitCode: 0, wallMs: 1000 });
    }
    ledger.close();

    await page.locator(`#progress-chart[data-trials="${TRIALS + 2}"]`).waitFor({ timeout: 20_000 });
    await page.locator(`#trials-table tbody tr[data-seq="${TRIALS + 1}"]`).waitFor({ timeout: 20_000 });
    await expect(page.locator('#trials-count').textContent()).resolves.toBe('rows 1–50 of 20,002');
    // The new crash is drawn: failures grew by one, and the update carried the new points, not the chart.
    await page.locator(`#progress-chart[data-failures="${(counts.crash ?? 0) + (counts.timeout ?? 0) + (counts.invalid ?? 0) + 1}"]`).waitFor();
    const delta = updates.find((update) => update.body.progress_since?.points.some((point) => point.seq === TRIALS + 1));
    expect(delta?.body.progress).toBeNull();
    expect(delta!.body.progress_since!.points.length).toBeLessThanOrEqual(2);
    await page.close();
  });

  it('writes a report of a few hundred kilobytes: every kept trial and the last rows, a chart with every keep and failure', () => {
    const reader = LedgerReader.open(ledgerPath);
    const html = renderReportHtml(reader, reader.study(studyId)!);
    reader.close();
    expect(html.length).toBeLessThan(2_000_000);
    const pointsOf = (status: string) => (html.match(new RegExp(`class="point" data-seq="\\d+" data-status="${status}"`, 'g')) ?? []).length;
    expect(pointsOf('keep')).toBe(counts.keep);
    expect(pointsOf('crash') + pointsOf('timeout') + pointsOf('invalid')).toBe((counts.crash ?? 0) + (counts.timeout ?? 0) + (counts.invalid ?? 0) + 1);
    expect(html).toContain(`of 20,002: every kept trial and the last 50; strata export writes every one)`);
    // Kept trials and the last 50 (one of them kept), each once.
    expect(html.match(/<tr class="st-/g)).toHaveLength(counts.keep! + 50 - 1);
  });

  it('threw no error and broke no Content-Security-Policy rule', () => {
    expect(browser.problems).toEqual([]);
  });
});

describeInChromium('dashboard of an evolve study of 2,000 candidates × 200 examples in Chromium', () => {
  let served: RunningDashboard;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let studyId: number;
  let ledgerPath: string;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-large-evolve-'));
    const generated = generateLargeEvolveLedger(dir, { candidates: 2000, examples: 200 });
    ({ studyId, ledgerPath } = generated);
    [served, browser] = await Promise.all([startDashboard({ ledgerPath: generated.ledgerPath, port: 0, pollMs: 100 }), launchChromium()]);
  }, 240_000);

  afterAll(async () => {
    await served?.close();
    await browser?.close();
  });

  it('draws a heatmap of the front and a lineage a reader can follow, and the page lists the newest proposals', async () => {
    const page = await browser.newPage();
    await page.goto(`${served.url}study/${studyId}`);
    await page.locator('#lineage svg').waitFor({ timeout: 30_000 });
    await page.locator('#front svg').waitFor({ timeout: 30_000 });
    // The heatmap: at most 30 rows of 200 cells (6,000 cells), the best first, out of every candidate scored.
    const front = page.locator('#front svg');
    expect(await front.getAttribute('data-candidates')).toBe('2000');
    const rows = Number(await front.getAttribute('data-rows'));
    expect(rows).toBe(30);
    expect(await page.locator('#front g.cell').count()).toBe(rows * 200);
    await expect(page.locator('#front svg > text').last().textContent()).resolves.toContain('30 of 2,000 candidates');
    // The lineage: the best's ancestry (and the front's strongest) as far as 150 nodes, and it says how many it leaves out.
    const lineage = page.locator('#lineage svg');
    expect(await lineage.getAttribute('data-total')).toBe('2000');
    const nodes = Number(await lineage.getAttribute('data-nodes'));
    expect(nodes).toBeGreaterThan(10);
    expect(await page.locator('#lineage a.node').count()).toBe(nodes);
    const bestIdx = await page.locator('#candidates-table tbody tr').first().getAttribute('data-idx');
    expect(await page.locator(`#lineage a.node[data-idx="${bestIdx}"]`).count()).toBe(1);
    expect(await page.locator('#lineage a.node[data-idx="0"]').count()).toBe(1);
    // Every candidate is in the table; the proposals list shows the newest 200 and says of how many.
    expect(await page.locator('#candidates-table tbody tr').count()).toBe(2000);
    expect(await page.locator('#proposals details').count()).toBe(200);
    await expect(page.locator('section.card h2', { hasText: 'Proposals' }).textContent()).resolves.toMatch(/^Proposals \(the newest 200 of 2,99\d\)$/);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-large-evolve.png'), fullPage: false });
    // A candidate joins while the page is open: the page shows it (a view this large is rebuilt at most every few seconds).
    const ledger = Ledger.open(ledgerPath);
    ledger.transaction(() => {
      const hash = 'f'.repeat(40);
      let evaluationId = ledger.nextId('evaluations');
      for (let index = 1; index <= 200; index++) {
        ledger.record('evolve.evaluation_recorded', { studyId, evaluationId: evaluationId++, cacheKey: `${hash}:val:ex${index}`, candidateHash: hash, split: 'val', exampleId: `ex${index}`, evaluatorVersion: 'v1', score: 0.5, objectives: null, feedback: null, trace: null, iteration: 4000, failed: false }, { studyId });
      }
      ledger.record('evolve.candidate_added', { studyId, candidateId: ledger.nextId('candidates'), idx: 2000, parents: [1999], components: { system_prompt: 'late' }, contentHash: hash, origin: 'reflective', description: 'joined while the page was open', iteration: 4000, foundAtMetricCalls: 409_200, valMean: 0.5, isBest: false }, { studyId });
    });
    ledger.close();
    await page.locator('#candidates-table tbody tr[data-idx="2000"]').waitFor({ timeout: 40_000 });
    // A node of the lineage opens its candidate.
    await page.locator(`#lineage a.node[data-idx="${bestIdx}"] circle`).last().click();
    await page.waitForURL(new RegExp(`/candidate/${bestIdx}$`));
    await page.locator('.diff').first().waitFor();
    await page.close();
  });

  it('threw no error and broke no Content-Security-Policy rule', () => {
    expect(browser.problems).toEqual([]);
  });
});
