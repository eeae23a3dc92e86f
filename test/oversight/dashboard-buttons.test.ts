/**
 * Chromium drives the control panel of a real running study: a note, a
 * refused veto, a Stop dismissed at its confirmation, then Pause, which the
 * orchestrator (a real `strata research` process) takes up.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startDashboard, type RunningDashboard } from '../../src/dashboard/start-dashboard.ts';
import { describeInChromium, launchChromium } from '../dashboard/chromium.ts';
import { strataProcess, until } from '../helpers/strata-process.ts';
import { makeRepo, quadraticConfig, quadraticTrainer } from '../helpers/study-repo.ts';
import { ledgerOf } from './oversight-fixtures.ts';


let served: RunningDashboard | undefined;
let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
afterAll(async () => {
  await served?.close();
  await browser?.close();
});

const HOSTILE = '<img src=x onerror="window.__pwned = 1"> keep x small';

describeInChromium('the dashboard control panel in Chromium', () => {
  it('adds a note, refuses a bad veto, asks before Stop, and pauses the running study', async () => {
    const repo = makeRepo({ 'train.mjs': quadraticTrainer(1500), 'strata.yaml': quadraticConfig({ name: 'panel', maxTrials: 40 }) });
    const state = () => {
      const ledger = ledgerOf(repo);
      try {
        return { study: ledger.study(1), notes: ledger.oversight.notes(1), requests: ledger.oversight.records(1, 'oversight.control_requested').map((record) => record.payload) };
      } finally {
        ledger.close();
      }
    };
    const run = await strataProcess(repo, ['research'], {
      during: async () => {
        await until(() => {
          try {
            return state().study.state === 'running' && state().study.ownerPid !== null;
          } catch {
            return false;
          }
        }, 'the study running', 60_000);
        [served, browser] = await Promise.all([startDashboard({ ledgerPath: join(repo, '.strata', 'ledger.db'), port: 0, pollMs: 100 }), launchChromium()]);
        const page = await browser.newPage();
        await page.goto(`${served.url}study/1`);
        await page.locator('#note-text').fill(HOSTILE);
        await page.locator('#add-note').click();
        await page.locator('#oversight-outcome[data-outcome="ok"]').waitFor();
        expect(await page.locator('#oversight-outcome').textContent()).toBe('note 1 added; the next proposal reads it');

        await page.locator('#veto-trial').fill('0');
        page.once('dialog', (dialog) => void dialog.accept());
        await page.locator('#veto').click();
        await page.waitForFunction(() => (globalThis as unknown as { document: { querySelector(s: string): { textContent: string | null } | null } }).document.querySelector('#oversight-outcome')?.textContent?.includes('failed') ?? false, null, { timeout: 60_000 });
        expect(await page.locator('#oversight-outcome').textContent()).toMatch(/trial #0 is the baseline/);

        page.once('dialog', (dialog) => void dialog.dismiss());
        await page.locator('#stop').click();
        expect(state().requests.map((request) => request.action)).toEqual(['veto']);

        await page.locator('#pause').click();
        await until(() => state().study.state === 'paused', 'the study paused', 60_000);
        expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
        await page.close();
      },
    });
    expect(run.code).toBe(0);
    const { study, notes, requests } = state();
    expect(study).toMatchObject({ state: 'paused', stopCause: 'oversight' });
    expect(study.stopReason).toMatch(/^paused by dashboard user from the dashboard; resume with strata resume$/);
    expect(notes).toMatchObject([{ id: 1, text: HOSTILE, source: 'dashboard' }]);
    expect(requests.map((request) => `${request.action} ${request.source}`)).toEqual(['veto dashboard', 'pause dashboard']);
    expect(browser!.problems).toEqual([]);
  }, 180_000);
});
