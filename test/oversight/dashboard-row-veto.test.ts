/**
 * Chromium against a real running `strata research`: the trial table marks
 * where the notes changed (a note added from a second terminal mid-run), and
 * a kept row's Veto button asks first (a dismissed one sends nothing), then
 * vetoes that trial through the write endpoint with the token in its header.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startDashboard, type RunningDashboard } from '../../src/dashboard/start-dashboard.ts';
import type { TrialRecord } from '../../src/ledger/records.ts';
import { ARTIFACTS, describeInChromium, launchChromium } from '../dashboard/chromium.ts';
import { strataProcess, until } from '../helpers/strata-process.ts';
import { makeRepo, quadraticConfig, quadraticTrainer } from '../helpers/study-repo.ts';
import { ledgerOf } from './oversight-fixtures.ts';


let served: RunningDashboard | undefined;
let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
afterAll(async () => {
  await served?.close();
  await browser?.close();
});

describeInChromium('the trial table in Chromium', () => {
  it('marks where the notes changed, and a kept row’s Veto button vetoes that trial after its confirmation', async () => {
    const repo = makeRepo({ 'train.mjs': quadraticTrainer(1200), 'strata.yaml': quadraticConfig({ name: 'rows', maxTrials: 60 }) });
    const read = <T,>(look: (ledger: ReturnType<typeof ledgerOf>) => T): T | undefined => {
      try {
        const ledger = ledgerOf(repo);
        try {
          return look(ledger);
        } finally {
          ledger.close();
        }
      } catch {
        return undefined; // the ledger is still being created
      }
    };
    const trials = (): TrialRecord[] => read((ledger) => ledger.trials(1)) ?? [];
    let vetoedSeq = -1;
    const run = await strataProcess(repo, ['research'], {
      during: async () => {
        await until(() => trials().some((trial) => trial.seq === 1 && trial.status === 'running'), 'trial #1 running', 60_000);
        expect((await strataProcess(repo, ['guide', 'keep x near 1'])).code).toBe(0);
        // A keep to veto, and a finished trial proposed under the note (the table shows finished trials).
        const underNote = (trial: TrialRecord) => (trial.meta?.guidance as { notes?: number[] } | undefined)?.notes?.includes(1) === true;
        await until(() => trials().some((trial) => trial.status === 'keep' && trial.role !== 'baseline') && trials().some((trial) => underNote(trial) && trial.status !== 'running' && trial.status !== 'queued'), 'a keep and a finished trial proposed under the note', 120_000);
        const firstUnderNote = trials().find(underNote)!.seq;

        [served, browser] = await Promise.all([startDashboard({ ledgerPath: join(repo, '.strata', 'ledger.db'), port: 0, pollMs: 100 }), launchChromium()]);
        const page = await browser.newPage();
        await page.goto(`${served.url}study/1`);
        const marker = page.locator(`#trials-table tr[data-seq="${firstUnderNote}"] .guidance-change[data-kind="notes"]`);
        await marker.waitFor({ timeout: 30_000 });
        expect(await marker.textContent()).toBe(`✎ notes changed before #${firstUnderNote} (active notes none → 1)`);
        // The baseline and trials that were not kept have no Veto button.
        expect(await page.locator('#trials-table tr[data-seq="0"] button.veto-row').count()).toBe(0);
        expect(await page.locator('#trials-table tr:not([data-status="keep"]) button.veto-row').count()).toBe(0);

        const button = page.locator('#trials-table tr[data-status="keep"] button.veto-row').first();
        vetoedSeq = Number(await button.getAttribute('data-seq'));
        // Dismissed at the confirmation: nothing is sent, and the click does not open the trial's page.
        const dismissed = new Promise<string>((resolve) => page.once('dialog', (dialog) => void dialog.dismiss().then(() => resolve(dialog.message()))));
        await button.click();
        expect(await dismissed).toBe(`Veto #${vetoedSeq}: Undo this kept change? The branch is rebuilt without it.`);
        expect(new URL(page.url()).pathname).toBe('/study/1');
        expect(read((ledger) => ledger.oversight.records(1, 'oversight.control_requested'))).toEqual([]);

        await page.locator('#veto-why').fill('<b>row</b> veto');
        page.once('dialog', (dialog) => void dialog.accept());
        await page.locator(`#trials-table tr[data-seq="${vetoedSeq}"] button.veto-row`).click();
        await page.locator('#oversight-outcome[data-outcome="ok"]').waitFor({ timeout: 90_000 });
        expect(await page.locator('#oversight-outcome').textContent()).toMatch(new RegExp(`^vetoed #${vetoedSeq}: the branch is rebuilt without it`));
        // The live table follows: the row is flagged vetoed, with the reason as text, and has no button any more.
        const row = page.locator(`#trials-table tr[data-seq="${vetoedSeq}"]`);
        await row.locator('.flag', { hasText: 'vetoed: <b>row</b> veto' }).waitFor({ timeout: 30_000 });
        expect(await row.locator('button.veto-row').count()).toBe(0);
        expect(await row.locator('b').count()).toBe(0);
        await page.locator('#trials').screenshot({ path: join(ARTIFACTS, 'trials-table-veto.png') });
        await page.close();
        expect((await strataProcess(repo, ['stop'])).code).toBe(0);
      },
    });
    expect(run.code).toBe(0);
    const ledger = ledgerOf(repo);
    try {
      const requests = ledger.oversight.records(1, 'oversight.control_requested').map((record) => record.payload);
      expect(requests.map((request) => `${request.action} ${request.source} #${request.trialSeq}`)).toEqual([`veto dashboard #${vetoedSeq}`, 'stop cli #null']);
      expect(ledger.trialBySeq(1, vetoedSeq)!.meta?.veto).toMatchObject({ reason: '<b>row</b> veto', source: 'dashboard' });
      expect(ledger.trial(ledger.study(1).bestTrialId!).seq).not.toBe(vetoedSeq);
    } finally {
      ledger.close();
    }
    expect(browser!.problems).toEqual([]);
  }, 240_000);
});
