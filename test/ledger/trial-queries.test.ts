import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateLargeLedger } from '../../bench/large-ledger.ts';
import { statusOverview } from '../../src/cli/commands/status.ts';
import { statusLines } from '../../src/cli/status-rows.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import type { TrialRecord } from '../../src/ledger/records.ts';
import { TRIAL_SORT_KEYS, type TrialSortKey } from '../../src/ledger/stores/trial-query-store.ts';
import { schedulingSummary } from '../../src/research/duty-cycle.ts';
import { summarizeStudy } from '../../src/research/study-summary.ts';
import { dutyOf } from '../../src/dashboard/views/research-summary-view.ts';
import { dutyCycle } from '../../src/dashboard/views/research-view.ts';
import { StudyTrials } from '../../src/study/study-trials.ts';

// The reads a long study is shown with (SQL counts, sums, pages, the rows shown) must give what reading every
// trial gave: compared here, on a generated study, against the whole-table computation they replace.
describe('trial queries of a long study', () => {
  let ledgerPath: string;
  let studyId: number;
  const now = Date.parse('2030-01-01T00:00:00Z');

  beforeAll(() => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-trial-queries-'));
    ({ ledgerPath, studyId } = generateLargeLedger(dir, { trials: 400, keepEvery: 9 }));
    // A second session that was killed (no state change ends it) while a trial ran: its capacity ends at its last event.
    const ledger = Ledger.open(ledgerPath);
    ledger.record('study.session_started', { studyId, slots: 2, executor: 'local', lookahead: 0 }, { studyId });
    const trials = new StudyTrials(ledger, studyId);
    const queued = trials.queue({ role: 'candidate', proposer: 'agent', description: 'still running when killed', parentCommit: null, budgetMs: 300_000, seed: 1, candidate: { commit: 'f'.repeat(40), diff: '' } });
    trials.start(queued, { worktree: null, logPath: null, executor: 'local', slot: 'slot-1' });
    ledger.close();
  });

  it('summarizes the study as reading every trial and event did', () => {
    const ledger = Ledger.openForReading(ledgerPath);
    const study = ledger.study(studyId);
    const summary = summarizeStudy(ledger, study, now);
    const records = ledger.trials(studyId);
    const counts: Record<string, number> = {};
    for (const trial of records) counts[trial.status] = (counts[trial.status] ?? 0) + 1;
    expect(summary.counts).toEqual(counts);
    expect(summary.scheduling).toEqual(schedulingSummary(ledger.events(studyId), records, study, now));
    expect(summary.scheduling.capacity_slot_s).toBeGreaterThan(0);
    const finished = records.filter((trial) => trial.status !== 'running' && trial.status !== 'queued');
    expect(summary.total_time_s).toBeCloseTo(finished.reduce((sum, trial) => sum + (trial.wallMs ?? 0), 0) / 1000, 6);
    expect(summary.trials.map((row) => row.seq)).toEqual(finished.map((trial) => trial.seq));
    expect(summary.running.map((row) => row.description)).toEqual(['still running when killed']);
    expect(summary.baseline?.trial).toBe(0);
    // The dashboard's duty cycle, from the same sums.
    const times = ledger.trialQueries.runTimes(studyId);
    for (const windows of [[], [[Date.parse(records[0]!.queuedAt), now]] as [number, number][]]) {
      for (const at of [undefined, now]) expect(dutyOf(times, at, windows)).toEqual(dutyCycle(records, at, windows));
    }
    ledger.close();
  });

  it("status reads only the rows it shows, and shows the lines the whole table gave", () => {
    const ledger = Ledger.openForReading(ledgerPath);
    const study = ledger.study(studyId);
    const full = summarizeStudy(ledger, study, now);
    const { summary, shown } = statusOverview(ledger, study, now);
    const expected = statusLines(full.trials, full.best?.trial ?? null, { all: false });
    expect(shown?.lines).toEqual(expected);
    expect(shown?.total).toBe(full.trials.length);
    // Only the kept trials (for the lineage) and the last rows were turned into rows.
    expect(summary.trials.length).toBeLessThan(full.trials.length / 4);
    expect({ ...summary, trials: [] }).toEqual({ ...full, trials: [] });
    ledger.close();
  });

  it('pages, filters and sorts in SQL as the table did in the browser', () => {
    const ledger = Ledger.openForReading(ledgerPath);
    const finished = ledger.trials(studyId).filter((trial) => trial.status !== 'running' && trial.status !== 'queued');
    const value: Record<TrialSortKey, (trial: TrialRecord) => number | string | null> = {
      seq: (t) => t.seq,
      status: (t) => t.status,
      metric: (t) => t.metric,
      delta: (t) => (t.metric !== null && t.bestBefore !== null ? t.metric - t.bestBefore : null),
      holdout: () => null,
      proposer: (t) => t.proposer,
      description: (t) => t.description,
      duration_s: (t) => t.wallMs,
      usd: () => 0,
    };
    // The browser's rule: missing values last either way, ties in trial order.
    const sorted = (key: TrialSortKey, descending: boolean, rows: TrialRecord[]) =>
      [...rows].sort((a, b) => {
        const x = value[key](a);
        const y = value[key](b);
        if (x === null) return y === null ? a.seq - b.seq : 1;
        if (y === null) return -1;
        const order = typeof x === 'number' ? x - (y as number) : x < y ? -1 : x > y ? 1 : 0;
        return (descending ? -order : order) || a.seq - b.seq;
      });
    for (const sort of TRIAL_SORT_KEYS) {
      for (const descending of [false, true]) {
        const want = sorted(sort, descending, finished);
        const page = ledger.trialQueries.page(studyId, { page: 3, limit: 25, sort, descending });
        expect(page.total).toBe(finished.length);
        expect(page.trials.map((t) => t.seq), `${sort} ${descending ? 'desc' : 'asc'}`).toEqual(want.slice(50, 75).map((t) => t.seq));
      }
    }
    const crashes = finished.filter((trial) => trial.status === 'crash');
    const crashPage = ledger.trialQueries.page(studyId, { page: 1, limit: 100, sort: 'seq', descending: false, status: 'crash' });
    expect(crashPage.trials.map((t) => t.seq)).toEqual(crashes.map((t) => t.seq));
    const text = ledger.trialQueries.page(studyId, { page: 1, limit: 100, sort: 'seq', descending: false, text: 'DEPTH 9' });
    expect(text.trials.map((t) => t.seq)).toEqual(finished.filter((t) => t.description.includes('depth 9')).map((t) => t.seq));
    expect(ledger.trialQueries.page(studyId, { page: 1, limit: 10, sort: 'seq', descending: false, text: '#397' }).trials.map((t) => t.seq)).toEqual([397]);
    // A page past the end is the last page.
    const last = ledger.trialQueries.page(studyId, { page: 999, limit: 150, sort: 'seq', descending: false });
    expect(last.page).toBe(3);
    expect(last.trials.at(-1)?.seq).toBe(finished.at(-1)?.seq);
    ledger.close();
  });
});
