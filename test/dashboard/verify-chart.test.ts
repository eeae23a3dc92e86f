/**
 * The contributions chart on a study's page in real Chromium: no card before
 * `strata verify` (the figure answers 204, no console error), then, live
 * while the page stays open, each kept change's row with the no-op marked
 * not needed and a hostile description shown as text.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboard, type RunningDashboard } from '../../src/dashboard/start-dashboard.ts';
import { strataProcess } from '../helpers/strata-process.ts';
import { nightStudy } from '../verify/night-study.ts';
import { ARTIFACTS, describeInChromium, launchChromium } from './chromium.ts';

const HOSTILE = '<img src=x onerror="document.title=1"> turn on B';

describeInChromium('contributions chart in Chromium', () => {
  let dir: string;
  let served: RunningDashboard;
  let browser: Awaited<ReturnType<typeof launchChromium>>;

  beforeAll(async () => {
    dir = nightStudy({
      changes: [
        { flag: 'A', effect: 0.3 },
        { flag: 'NOOP', effect: 0 },
        { flag: 'B', effect: 0.2, description: HOSTILE },
      ],
    });
    const [research, launched] = await Promise.all([strataProcess(dir, ['research']), launchChromium()]);
    browser = launched;
    expect(research.code, research.stderr).toBe(0);
    served = await startDashboard({ ledgerPath: join(dir, '.strata', 'ledger.db'), port: 0, pollMs: 100 });
  }, 120_000);

  afterAll(async () => {
    await served?.close();
    await browser?.close();
  });

  it('shows no chart before a verify, then draws it live once one ran', async () => {
    const page = await browser.newPage();
    await page.goto(`${served.url}study/1`);
    await page.locator('#contributions-chart[data-state="none"]').waitFor({ state: 'attached' });
    expect(await page.locator('#contributions-chart').isVisible()).toBe(false);

    const verify = await strataProcess(dir, ['verify', '--repeats', '3']);
    expect(verify.code, verify.stderr).toBe(0);
    const chart = page.locator('#contributions-chart[data-state="drawn"] svg[data-complete="true"]');
    await chart.waitFor();
    expect(await chart.isVisible()).toBe(true);
    const rows = chart.locator('g.contribution');
    expect(await rows.count()).toBe(3);
    expect(await chart.locator('g.contribution[data-seq="1"]').getAttribute('data-verdict')).toBe('needed');
    expect(await chart.locator('g.contribution[data-seq="2"]').getAttribute('data-verdict')).toBe('not-needed');
    expect(await chart.locator('g.contribution[data-seq="2"] .verdict').textContent()).toBe('not needed');
    expect(await chart.locator('g.contribution[data-seq="3"]').getAttribute('data-verdict')).toBe('needed');
    expect(await chart.locator('g.overall').textContent()).toContain('best #3 vs baseline');
    // The description is text in the drawing, never an element.
    expect(await chart.locator('img').count()).toBe(0);
    expect(await chart.locator('g.contribution[data-seq="3"] title').textContent()).toContain(HOSTILE);
    expect(await page.title()).not.toBe('1');
    // Drawn where the page is: the zero line is inside the figure's box.
    const box = (await chart.boundingBox())!;
    const zero = (await chart.locator('line.zero').boundingBox())!;
    expect(zero.x).toBeGreaterThan(box.x);
    expect(zero.x).toBeLessThan(box.x + box.width);
    await page.locator('#contributions-chart').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-contributions.png'), fullPage: true });
    expect(browser.problems).toEqual([]);
    await page.close();
  }, 120_000);
});
