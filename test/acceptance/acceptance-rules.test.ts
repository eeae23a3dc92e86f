import { describe, expect, it } from 'vitest';
import { NOISE_AWARE_DEFAULTS, noiseAwareAcceptance } from '../../src/acceptance/noise-aware-acceptance.ts';
import { pooledNoise } from '../../src/acceptance/noise-estimate.ts';
import { finalEfficacyZ, futilityZ } from '../../src/acceptance/sequential-boundary.ts';
import { checkSanity } from '../../src/acceptance/sanity-limits.ts';
import { strictAcceptance } from '../../src/acceptance/strict-acceptance.ts';
import { thresholdAcceptance } from '../../src/acceptance/threshold-acceptance.ts';

const baseline = [2.4, 2.41, 2.39, 2.405, 2.395]; // sd ≈ 0.0079
const rule = noiseAwareAcceptance();

describe('strict and threshold', () => {
  it('strict keeps anything strictly better, by the goal, on means', () => {
    expect(strictAcceptance.decide({ goal: 'minimize', candidate: 1.2, incumbent: 1.3 }).keep).toBe(true);
    expect(strictAcceptance.decide({ goal: 'maximize', candidate: 1.2, incumbent: 1.3 }).keep).toBe(false);
    expect(strictAcceptance.decide({ goal: 'minimize', candidate: 1.3, incumbent: 1.3 })).toMatchObject({ keep: false, reason: 'equal to the best' });
    expect(strictAcceptance.decide({ goal: 'minimize', candidate: [1.2, 1.5], incumbent: [1.3] }).keep).toBe(false);
    expect(strictAcceptance.baselineRuns).toBe(1);
  });

  it('threshold keeps only improvements beyond min_delta', () => {
    const threshold = thresholdAcceptance(0.01);
    expect(threshold.decide({ goal: 'minimize', candidate: 1.295, incumbent: 1.3 })).toMatchObject({ keep: false });
    expect(threshold.decide({ goal: 'minimize', candidate: 1.285, incumbent: 1.3 })).toMatchObject({ keep: true });
    expect(threshold.decide({ goal: 'minimize', candidate: 1.295, incumbent: 1.3 }).reason).toContain('min_delta 0.01');
  });
});

describe('pooled noise', () => {
  it('pools within-commit spread only', () => {
    expect(pooledNoise([[1, 3], [10, 12]])).toEqual({ sd: Math.SQRT2, df: 2 });
    expect(pooledNoise([[5], [7]])).toEqual({ sd: 0, df: 0 });
  });
});

describe('noise-aware acceptance', () => {
  it('starts candidates after one baseline run and records the test on the decision', () => {
    expect(rule.baselineRuns).toBe(1);
    const decision = rule.decide({ goal: 'minimize', candidate: [2.0], incumbent: baseline, otherRuns: [[1, 1.01, 0.99, 1.0, 1.005, 0.995, 1.002, 0.998, 1.001]] });
    expect(decision.keep).toBe(true);
    expect(decision.rerun).toBeUndefined();
    expect(decision.evidence?.test).toMatchObject({ look: 1, maxLooks: 5 });
    expect(decision.evidence?.test?.pValue).toBeLessThan(0.001);
    expect(decision.evidence?.noise?.df).toBe(12);
    expect(decision.reason).toMatch(/beats the noise: improvement 0\.4 ± [\d.]+ \(95%\)/);
  });

  it('discards a clear loser after one run, before any further run of the incumbent', () => {
    const decision = rule.decide({ goal: 'minimize', candidate: [2.5], incumbent: [2.4] });
    expect(decision).toMatchObject({ keep: false });
    expect(decision.rerun).toBeUndefined();
    expect(decision.reason).toMatch(/^not better/);
  });

  it('measures the baseline again only when a candidate looks better than it', () => {
    const first = rule.decide({ goal: 'minimize', candidate: [2.3], incumbent: [2.4] });
    expect(first).toMatchObject({ keep: false, rerun: 'incumbent' });
    expect(first.reason).toContain('measuring the incumbent again');
    // Five runs of the incumbent and 3 df of noise before a close call is tested.
    expect(rule.decide({ goal: 'minimize', candidate: [2.39], incumbent: baseline.slice(0, 4) }).rerun).toBe('incumbent');
    expect(rule.decide({ goal: 'minimize', candidate: [2.392], incumbent: baseline }).rerun).toBe('candidate');
  });

  it('asks for a rerun of a close call, then gives up at the last look', () => {
    const close = rule.decide({ goal: 'minimize', candidate: [2.392], incumbent: baseline });
    expect(close).toMatchObject({ keep: false, rerun: 'candidate' });
    expect(close.reason).toContain('within the noise (run 1 of at most 5)');
    const last = rule.decide({ goal: 'minimize', candidate: [2.396, 2.401, 2.398, 2.399, 2.4], incumbent: baseline });
    expect(last.rerun).toBeUndefined();
    expect(last.keep).toBe(false);
    expect(last.reason).toMatch(/within the noise after 5 runs|unlikely to beat the noise/);
  });

  it('stops a candidate that stays short of the futility bound after more runs', () => {
    const stalled = rule.decide({ goal: 'minimize', candidate: [2.392, 2.401, 2.403], incumbent: baseline });
    expect(stalled.rerun).toBeUndefined();
    expect(stalled.keep).toBe(false);
    expect(stalled.reason).toContain('unlikely to beat the noise (run 3 of at most 5)');
  });

  it('does not judge against the runs that got the incumbent kept: it measures the incumbent afresh first', () => {
    const kept = [2.2, 2.21, 2.19, 2.2, 2.205];
    expect(rule.decide({ goal: 'minimize', candidate: [2.19], incumbent: kept, incumbentFreshRuns: 0, otherRuns: [baseline] })).toMatchObject({ rerun: 'incumbent' });
    expect(rule.decide({ goal: 'minimize', candidate: [2.19], incumbent: [...kept, 2.21], incumbentFreshRuns: 1, otherRuns: [baseline] }).rerun).toBe('candidate');
  });

  it('gives a final verdict without reruns when asked (the incumbent re-check)', () => {
    const verdict = rule.decide({ goal: 'minimize', candidate: [2.392], incumbent: [2.4], look: Number.MAX_SAFE_INTEGER });
    expect(verdict.rerun).toBeUndefined();
    expect(verdict.keep).toBe(false);
  });

  it('works for maximize and honours min_delta', () => {
    const strictMargin = noiseAwareAcceptance({ ...NOISE_AWARE_DEFAULTS, minDelta: 0.5 });
    const accuracy = [0.9, 0.901, 0.899, 0.9005, 0.8995];
    expect(rule.decide({ goal: 'maximize', candidate: [0.95], incumbent: accuracy, otherRuns: [accuracy.map((x) => x + 1)] }).keep).toBe(true);
    expect(strictMargin.decide({ goal: 'maximize', candidate: [0.95], incumbent: accuracy }).reason).toMatch(/less than min_delta 0\.5/);
  });

  it('treats identical repeats as a deterministic metric', () => {
    const decision = rule.decide({ goal: 'minimize', candidate: [0.99], incumbent: [1, 1, 1] });
    expect(decision.keep).toBe(true);
    expect(decision.reason).toContain('identical metrics');
  });

  it('rejects impossible settings', () => {
    expect(() => noiseAwareAcceptance({ ...NOISE_AWARE_DEFAULTS, baselineRepeats: 0 })).toThrow(/baseline_repeats must be an integer ≥ 1/);
    expect(() => noiseAwareAcceptance({ ...NOISE_AWARE_DEFAULTS, confirmRepeats: 0 })).toThrow(/confirm_repeats must be an integer ≥ 1/);
    expect(() => noiseAwareAcceptance({ ...NOISE_AWARE_DEFAULTS, confidence: 1 })).toThrow(/confidence/);
  });
});

describe('the sequential boundary', () => {
  it('spends exactly α over all looks, futility stops included (below the one-look 1.645)', () => {
    const final = finalEfficacyZ(5, 5, 0.05);
    expect(final).toBeGreaterThan(1.2);
    expect(final).toBeLessThan(1.645);
    // A better-measured incumbent leaves less noise to overcome; the threshold is deterministic.
    expect(finalEfficacyZ(5, 30, 0.05)).toBeLessThan(final);
    expect(finalEfficacyZ(5, 5, 0.05)).toBe(final);
    expect(futilityZ(1, 5)).toBeLessThan(futilityZ(4, 5));
  });
});

describe('sanity limits', () => {
  it('flags values outside valid_range and one-step jumps', () => {
    expect(checkSanity(-0.2, { goal: 'minimize', incumbent: 2.4, limits: { validRange: [0, 8] } })).toEqual({
      kind: 'out_of_range',
      reason: 'metric -0.2 is outside valid_range [0, 8]',
    });
    expect(checkSanity(1.1, { goal: 'minimize', incumbent: 2.4, limits: { maxImprovementFactor: 2 } })?.kind).toBe('jump');
    expect(checkSanity(1.3, { goal: 'minimize', incumbent: 2.4, limits: { maxImprovementFactor: 2 } })).toBeNull();
    expect(checkSanity(0.9, { goal: 'maximize', incumbent: 0.4, limits: { maxImprovementFactor: 2 } })?.kind).toBe('jump');
    expect(checkSanity(-5, { goal: 'minimize', incumbent: -1, limits: { maxImprovementFactor: 2 } })).toBeNull();
  });
});
