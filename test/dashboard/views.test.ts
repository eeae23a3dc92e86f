import { describe, expect, it } from 'vitest';
import { LedgerReader } from '../../src/ledger/ledger-reader.ts';
import { createDashboardApp } from '../../src/dashboard/server/dashboard-app.ts';
import type { CandidateDetailView } from '../../src/dashboard/views/candidate-view.ts';
import type { EvolveView } from '../../src/dashboard/views/evolve-view.ts';
import { unifiedDiff } from '../../src/dashboard/views/line-diff.ts';
import { progressSeries } from '../../src/dashboard/views/progress-series.ts';
import { dutyCycle, holdoutOf, runningWindows } from '../../src/dashboard/views/research-view.ts';
import type { TrialRecord } from '../../src/ledger/records.ts';
import { evolveFixture, HOSTILE_REPLY } from './evolve-fixture.ts';

describe('progress series', () => {
  it('moves the best only at kept trials and marks trials without a metric', () => {
    const series = progressSeries([
      { seq: 0, status: 'keep', metric: 3, holdout: 3.2 },
      { seq: 1, status: 'discard', metric: 2.5, holdout: null },
      { seq: 2, status: 'crash', metric: null, holdout: null },
      { seq: 3, status: 'keep', metric: 2.8, holdout: 2.9 },
      { seq: 4, status: 'timeout', metric: null, holdout: null },
    ]);
    expect(series.best).toEqual([3, 3, 3, 2.8, 2.8]);
    expect(series.kept).toEqual([3, null, null, 2.8, null]);
    expect(series.discarded).toEqual([null, 2.5, null, null, null]);
    expect(series.failed).toEqual([null, null, 1, null, 1]);
    expect(series.holdout).toEqual([3.2, null, null, 2.9, null]);
    expect(series.points).toBe(5);
  });
});

const trial = (fields: Partial<TrialRecord>): TrialRecord => ({ metrics: null, meta: null, slot: null, startedAt: null, endedAt: null, ...fields }) as TrialRecord;

describe('research view helpers', () => {
  it('finds the holdout wherever the integrity layer records it', () => {
    expect(holdoutOf(trial({ metrics: { loss: 2, holdout: 2.2 } }), 'loss')).toBe(2.2);
    expect(holdoutOf(trial({ metrics: { loss: 2, holdout_loss: 2.3 } }), 'loss')).toBe(2.3);
    expect(holdoutOf(trial({ meta: { holdout: { metric: 2.4 } } }), 'loss')).toBe(2.4);
    expect(holdoutOf(trial({ metrics: { loss: 2 } }), 'loss')).toBeNull();
  });

  it('computes the duty cycle over slots', () => {
    const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
    // Two slots, each busy 8s of a 10s span.
    const trials = [
      trial({ slot: 'gpu0', startedAt: at(0), endedAt: at(4) }),
      trial({ slot: 'gpu0', startedAt: at(6), endedAt: at(10) }),
      trial({ slot: 'gpu1', startedAt: at(0), endedAt: at(8) }),
    ];
    expect(dutyCycle(trials)).toEqual({ fraction: 0.8, busy_s: 16, span_s: 10, slots: 2 });
    expect(dutyCycle([])).toBeNull();
  });

  it('counts only the time the study ran: a paused night is not idle time', () => {
    const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
    const events = [
      { type: 'study.created', payload: {}, createdAt: at(0) },
      { type: 'study.state_changed', payload: { state: 'paused' }, createdAt: at(10) },
      { type: 'study.state_changed', payload: { state: 'running' }, createdAt: at(50) },
    ];
    const windows = runningWindows(events, Date.parse(at(60)));
    expect(windows).toEqual([[Date.parse(at(0)), Date.parse(at(10))], [Date.parse(at(50)), Date.parse(at(60))]]);
    const trials = [trial({ startedAt: at(1), endedAt: at(9) }), trial({ startedAt: at(51), endedAt: at(59) })];
    expect(dutyCycle(trials, undefined, windows)?.fraction).toBeCloseTo(0.8);
  });
});

describe('line diff', () => {
  it('writes a git-style unified diff', () => {
    expect(unifiedDiff('a\nb\nc\n', 'a\nB\nc\nd\n', 'prompt')).toBe('--- a/prompt\n+++ b/prompt\n@@ -1,3 +1,4 @@\n a\n-b\n+B\n c\n+d\n');
    expect(unifiedDiff('same', 'same', 'x')).toBe('');
    expect(unifiedDiff('', 'new\n', 'x')).toBe('--- a/x\n+++ b/x\n@@ -0,0 +1,1 @@\n+new\n');
  });

  it('keeps far-apart changes in separate hunks with context', () => {
    const before = Array.from({ length: 20 }, (_, i) => `line ${i}`).join('\n');
    const after = before.replace('line 2', 'LINE 2').replace('line 17', 'LINE 17');
    const diff = unifiedDiff(before, after, 'f');
    expect(diff.match(/^@@/gm)).toHaveLength(2);
    expect(diff).toContain('@@ -1,6 +1,6 @@');
    expect(diff).toContain('@@ -15,6 +15,6 @@');
  });
});

describe('evolve views over a ledger written as the engine writes it', () => {
  const fixture = evolveFixture();
  const reader = LedgerReader.open(fixture.ledgerPath);
  const { app, close } = createDashboardApp({ reader, token: null });

  it('gives the pool, the front, the score curve, proposals and spend', async () => {
    const view = (await (await app.request('/api/studies/1')).json()) as EvolveView;
    expect(view.kind).toBe('evolve');
    expect(view.candidates.map((c) => c.idx)).toEqual([0, 1, 2, 3, 4]);
    expect(view.best).toMatchObject({ idx: 4, val_mean: 0.875, test_mean: 1, parents: [3, 2], origin: 'merge' });
    expect(view.progress.best).toEqual([0.5, 0.625, 0.75, 0.875]);
    expect(view.progress.idx).toEqual([0, 1, 3, 4]);
    expect(view.front.examples).toEqual(['ex1', 'ex2', 'ex3', 'ex4', 'ex5', 'ex6', 'ex7', 'ex8']);
    // #2 holds ex6 with #4 only: the front keeps candidates that are best somewhere.
    expect(view.front.holds[2]![5]).toBe(true);
    expect(view.front.holds[0]![5]).toBe(false);
    expect(view.proposals.map((p) => p.outcome)).toEqual(['accepted', 'rejected', 'accepted', 'skipped_perfect', 'accepted', 'reflection_failed', 'merge_accepted']);
    expect(view.proposals[1]!.reflections[0]!.reply).toBe(HOSTILE_REPLY);
    expect(view.proposals[5]!.reflections[0]!.reason).toBe('cut off by the length limit');
    expect(view.metric_calls).toMatchObject({ used: 70, budget: 120 });
    expect(view.spend.usd).toBeCloseTo(7 * 0.0135, 6);
  });

  it("gives a candidate's components, its diff against the parent, scores with feedback", async () => {
    const detail = (await (await app.request('/api/studies/1/candidates/3')).json()) as CandidateDetailView;
    expect(detail.diffs).toEqual([{ component: 'system_prompt', parent: 1, diff: expect.stringContaining('+Password resets are account.') }]);
    expect(detail.children).toEqual([4]);
    expect(detail.scores.find((s) => s.example === 'ex6')).toMatchObject({ score: 0, best: 1, holds: false, feedback: 'expected "billing" for ex6' });
    expect(detail.proposal?.iteration).toBe(5);
    expect(detail.tried_from.map((p) => p.iteration)).toEqual([6, 7]);
    expect(detail.llm_calls).toHaveLength(1);
  });

  it('draws the lineage and the front as SVG with links to the candidates', async () => {
    const lineage = await (await app.request('/api/studies/1/figures/lineage.svg')).text();
    expect(lineage.match(/<a href="\/study\/1\/candidate\/\d+"/g)).toHaveLength(5);
    const front = await app.request('/api/studies/1/figures/front.svg');
    expect(front.headers.get('content-type')).toContain('image/svg+xml');
    // Every example's best is 1 (26 such cells in the pool) except ex8, where all five tie at 0.
    expect((await front.text()).match(/class="cell front"/g)).toHaveLength(26 + 5);
    expect((await app.request('/api/studies/1/figures/other.svg')).status).toBe(404);
    close();
    reader.close();
  });

});
