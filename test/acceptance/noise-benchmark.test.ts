import { describe, expect, it } from 'vitest';
import { noiseAwareAcceptance } from '../../src/acceptance/noise-aware-acceptance.ts';
import { strictAcceptance } from '../../src/acceptance/strict-acceptance.ts';
import { simulateAcceptance } from '../../bench/noise-simulation.ts';

// The figures of bench/README-noise.md, with the bench's own seeds: a synthetic
// metric with noise sd 1 per run, every decision the first of a fresh study.
const decisions = 20_000;
const firstDecision = (acceptance: Parameters<typeof simulateAcceptance>[0]['acceptance'], improvement: number) =>
  simulateAcceptance({ acceptance, trueImprovement: improvement, decisionsPerStudy: 1, studies: decisions, seed: `1:${improvement}` });

describe('acceptance rules on a synthetic noisy metric (fixed seeds)', () => {
  it('the default noise-aware rule keeps at most 5% of changes that do nothing', () => {
    const result = firstDecision(noiseAwareAcceptance(), 0);
    expect(result.keepRate).toBeLessThanOrEqual(0.05);
    // Clear losers stop after one run: a no-op costs about two runs on average, not the maximum of four.
    expect(result.runsPerDecision).toBeLessThan(2.5);
  });

  it('the default noise-aware rule keeps at least 80% of true 2σ improvements', () => {
    expect(firstDecision(noiseAwareAcceptance(), 2).keepRate).toBeGreaterThanOrEqual(0.8);
  });

  it('the strict rule keeps about half of the changes that do nothing', () => {
    const rate = firstDecision(strictAcceptance, 0).keepRate;
    expect(rate).toBeGreaterThan(0.47);
    expect(rate).toBeLessThan(0.53);
  });

  it('inside a study, a run of no-ops is almost never kept by the default rule', () => {
    const result = simulateAcceptance({ acceptance: noiseAwareAcceptance(), trueImprovement: 0, decisionsPerStudy: 20, studies: 500, seed: 'study' });
    expect(result.keepRate).toBeLessThanOrEqual(0.05);
  });
});
