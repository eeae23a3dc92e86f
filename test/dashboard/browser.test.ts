import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LedgerReader } from '../../src/ledger/ledger-reader.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { renderReportHtml } from '../../src/dashboard/report/report-html.ts';
import { startDashboard, type RunningDashboard } from '../../src/dashboard/start-dashboard.ts';
import { ARTIFACTS, describeInChromium, launchChromium } from './chromium.ts';
import { evolveFixture, type EvolveFixture } from './evolve-fixture.ts';
import { HOSTILE_DESCRIPTION, researchFixture, type ResearchFixture } from './research-fixture.ts';

/** Wait until the element's text is exactly `text`. */
async function waitForText(page: Page, selector: string, text: string): Promise<void> {
  // The callback runs in the page; `globalThis.document` there (the tests are type-checked without DOM types).
  type Doc = { document: { querySelector(selector: string): { textContent: string | null } | null } };
  await page.waitForFunction(([sel, want]) => (globalThis as unknown as Doc).document.querySelector(sel!)?.textContent === want, [selector, text]);
}


describeInChromium('dashboard in Chromium', () => {
  let research: ResearchFixture;
  let evolve: EvolveFixture;
  let served: RunningDashboard;
  let evolveServed: RunningDashboard;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  const shot = (name: string) => join(ARTIFACTS, name);

  beforeAll(async () => {
    [research, browser] = await Promise.all([researchFixture({ maxTrials: 9 }), launchChromium()]);
    evolve = evolveFixture();
    served = await startDashboard({ ledgerPath: research.ledgerPath, port: 0, pollMs: 100 });
    evolveServed = await startDashboard({ ledgerPath: evolve.ledgerPath, port: 0, pollMs: 100 });
  }, 120_000);

  afterAll(async () => {
    await served?.close();
    await evolveServed?.close();
    await browser?.close();
  });

  it('lists the studies', async () => {
    const page = await browser.newPage();
    await page.goto(served.url);
    const row = page.locator('#studies tbody tr[data-study="tiny-agent"]');
    await row.waitFor();
    await expect(row.locator('td').nth(3).textContent()).resolves.toBe('9');
    await waitForText(page, '#live', 'live');
    await page.screenshot({ path: shot('dashboard-studies.png') });
    await row.click();
    await page.waitForURL(/\/study\/1$/);
    await page.close();
  });

  it('draws one chart point per trial and a table row per trial', async () => {
    const page = await browser.newPage();
    await page.goto(`${served.url}study/1`);
    const chart = page.locator('#progress-chart[data-points]');
    await chart.waitFor();
    await page.locator('#progress-chart canvas').waitFor();
    const rows = await page.locator('#trials-table tbody tr').count();
    expect(rows).toBe(9);
    expect(await chart.getAttribute('data-points')).toBe(String(rows));
    // The status filter narrows the table; sorting by the metric puts the best first (the server filters and sorts: wait for its page).
    await page.locator('.chip[data-status="keep"]').click();
    await page.locator('#trials[data-state="ready"][data-status="keep"]').waitFor();
    expect(await page.locator('#trials-table tbody tr').count()).toBe(4);
    await page.locator('.chip[data-status="all"]').click();
    await page.locator('#trials[data-state="ready"][data-status="all"]').waitFor();
    await page.locator('th[data-key="metric"]').click();
    await page.locator('#trials[data-state="ready"][data-sort="metric desc"]').waitFor();
    await page.locator('th[data-key="metric"]').click();
    await page.locator('#trials[data-state="ready"][data-sort="metric asc"]').waitFor();
    expect(await page.locator('#trials-table tbody tr').first().getAttribute('data-seq')).toBe('6');
    await page.locator('th[data-key="seq"]').click();
    await page.locator('#trials[data-state="ready"][data-sort="seq desc"]').waitFor();
    // Hovering a point names its trial.
    const box = (await page.locator('#progress-chart .u-over').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5);
    await expect(page.locator('.chart-tip').textContent()).resolves.toMatch(/^#\d+ · /);
    await page.mouse.move(0, 0);
    await page.screenshot({ path: shot('dashboard-study.png'), fullPage: true });
    await page.close();
  });

  it("shows a trial's diff, unified and side by side, with its log and model calls", async () => {
    const page = await browser.newPage();
    await page.goto(`${served.url}study/1/trial/2`);
    const diff = page.locator('.diff[data-file="train.mjs"]');
    await diff.waitFor();
    await expect(diff.locator('tr.add').first().textContent()).resolves.toContain('+const WIDTH = 64;');
    await expect(diff.locator('tr.del').first().textContent()).resolves.toContain('-const WIDTH = 32;');
    await expect(diff.locator('.tok-k').first().textContent()).resolves.toBe('const');
    await expect(page.locator('#log').textContent()).resolves.toContain('METRIC loss=2.125');
    await expect(page.locator('details.call summary').first().textContent()).resolves.toContain('openai:gpt-4.1-mini');
    await page.screenshot({ path: shot('dashboard-trial.png'), fullPage: true });
    await page.getByRole('button', { name: 'side by side' }).click();
    await expect(page.locator('.diff table.split td.add-side').first().textContent()).resolves.toBe('const WIDTH = 64;');
    await page.getByRole('button', { name: 'show the full log' }).click();
    await page.getByRole('button', { name: 'full log shown' }).waitFor();
    await expect(page.locator('#log').textContent()).resolves.toContain('step 100 loss');
    await page.close();
  });

  it('renders a hostile description as text, never as markup', async () => {
    const page = await browser.newPage();
    await page.goto(`${served.url}study/1`);
    const cell = page.locator('#trials-table tr[data-seq="5"] td.desc span').first();
    await cell.waitFor();
    expect(await cell.textContent()).toBe(HOSTILE_DESCRIPTION);
    await page.goto(`${served.url}study/1/trial/5`);
    await page.locator('#description').waitFor();
    expect(await page.locator('#description').textContent()).toBe(HOSTILE_DESCRIPTION);
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('main script').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    await page.close();
  });

  it('shows a new trial live, without a reload', async () => {
    const page = await browser.newPage();
    await page.goto(`${served.url}study/1`);
    await page.locator('#progress-chart[data-points="9"]').waitFor();
    await waitForText(page, '#live', 'live');
    await page.evaluate(() => ((globalThis as unknown as { __sameDocument?: boolean }).__sameDocument = true));
    // Run the study one trial further while the page is open.
    await research.extend(10);
    await page.locator('#trials-table tbody tr[data-seq="9"]').waitFor({ timeout: 20_000 });
    await page.locator('#progress-chart[data-points="10"]').waitFor();
    expect(await page.evaluate(() => (globalThis as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true);
    await expect(page.locator('#trials-table tr[data-seq="9"] .badge').textContent()).resolves.toBe('keep');
    await page.close();
  });

  it('refuses a page without the token when bound to a non-loopback address', async () => {
    const open = await startDashboard({ ledgerPath: research.ledgerPath, host: '0.0.0.0', port: 0, token: 'browser-token-42' });
    const page = await browser.newPage();
    try {
      const base = `http://127.0.0.1:${open.port}/`;
      const refused = await page.goto(base);
      expect(refused!.status()).toBe(401);
      await expect(page.locator('body').textContent()).resolves.toContain('needs its token');
      await page.goto(`${base}?token=browser-token-42`);
      expect(page.url()).toBe(base);
      await page.locator('#studies tbody tr').first().waitFor();
      await waitForText(page, '#live', 'live');
    } finally {
      // The refused load logs a 401; that is the point of this test, not a problem.
      browser.problems.splice(0, browser.problems.length, ...browser.problems.filter((p) => !/401|Unauthorized/.test(p)));
      await page.close();
      await open.close();
    }
  });

  it('shows an evolve study: score curve, lineage, Pareto front, proposals, candidate diff', async () => {
    const page = await browser.newPage();
    await page.goto(`${evolveServed.url}study/1`);
    await page.locator('#lineage svg').waitFor();
    await page.locator('#front svg').waitFor();
    expect(await page.locator('#lineage a.node').count()).toBe(5);
    expect(await page.locator('#front g.cell').count()).toBe(5 * 8);
    expect(await page.locator('#score-chart canvas').count()).toBeGreaterThan(0);
    expect(await page.locator('#proposals details').count()).toBe(7);
    const rejected = page.locator('#proposals details[data-iteration="2"]');
    await rejected.locator('summary').click();
    await expect(rejected.locator('pre').textContent()).resolves.toContain('<script>window.__pwned = 3</script>');
    expect(await page.locator('img').count()).toBe(0);
    // The sticky top bar would sit mid-page in a full-page shot taken while scrolled.
    await page.evaluate(() => (globalThis as unknown as { scrollTo(x: number, y: number): void }).scrollTo(0, 0));
    await page.screenshot({ path: shot('dashboard-evolve.png'), fullPage: true });
    await page.locator('#lineage a.node[data-idx="4"] circle').last().click();
    await page.waitForURL(/\/candidate\/4$/);
    await expect(page.locator('.diff tr.add').first().textContent()).resolves.toContain('+Refund requests are billing.');
    await page.screenshot({ path: shot('dashboard-candidate.png'), fullPage: true });
    expect(await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    await page.close();
  });

  it('opens the report offline, with its chart and no script', async () => {
    const reader = LedgerReader.open(research.ledgerPath);
    const file = join(ARTIFACTS, 'report.html');
    writeFileSync(file, renderReportHtml(reader, reader.studyByName(research.studyName)!));
    reader.close();
    const page = await browser.newPage();
    await page.context().setOffline(true);
    await page.goto(`file://${file}`);
    expect(await page.locator('svg .point').count()).toBe(10);
    await page.locator('details#trial-1 summary').click();
    await expect(page.locator('details#trial-1 .add').first().textContent()).resolves.toBe('+const LR = 0.3;');
    expect(await page.locator('script').count()).toBe(0);
    await page.screenshot({ path: shot('report.png'), fullPage: true });
    await page.context().setOffline(false);
    await page.close();
  });

  it('shows what is running now, with a clock that ticks', async () => {
    const page = await browser.newPage();
    await page.goto(`${served.url}study/1`);
    await page.locator('#progress-chart[data-points]').waitFor();
    // A trial starts while the page is open, written as the loop writes it.
    const ledger = Ledger.open(research.ledgerPath);
    const study = ledger.studyByName(research.studyName)!;
    ledger.transaction(() => {
      const trialId = ledger.nextId('trials');
      const seq = ledger.nextTrialSeq(study.id);
      ledger.record('study.state_changed', { studyId: study.id, state: 'running', reason: null }, { studyId: study.id });
      ledger.record(
        'trial.queued',
        { studyId: study.id, trialId, seq, role: 'candidate', proposer: 'agent/scripted', description: 'cosine schedule with warmup', parentCommit: null, relatedTrialId: null, params: null, paramsKey: null, budgetMs: 300_000, seed: null, attempt: 1 },
        { studyId: study.id, trialId },
      );
      ledger.record('trial.started', { trialId, worktree: null, logPath: null, executor: 'local', slot: 'gpu0', externalId: null }, { studyId: study.id, trialId });
    });
    ledger.close();
    const row = page.locator('.run-row[data-seq="10"]');
    await row.waitFor({ timeout: 10_000 });
    await expect(row.textContent()).resolves.toContain('cosine schedule with warmup · gpu0');
    const clock = row.locator('[data-started]');
    const first = await clock.textContent();
    await page.waitForTimeout(1300);
    expect(await clock.textContent()).not.toBe(first);
    expect(first).toMatch(/ \/ 5m00s$/);
    await page.screenshot({ path: shot('dashboard-running.png') });
    await page.close();
  });

  it('broke no Content-Security-Policy rule and threw no error on any page', () => {
    expect(browser.problems).toEqual([]);
  });
});
