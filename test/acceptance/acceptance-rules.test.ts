import { describe, expect, it } from 'vitest';
import { NOISE_AWARE_DEFAULTS, noiseAwareAcceptance } from '../../src/acceptance/noise-aware-acceptance.ts';
import { pooledNoise } from '../../src/acceptance/noise-estimate.ts';
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
  it('asks for the baseline repeats and records the test on the decision', () => {
    expect(rule.baselineRuns).toBe(NOISE_AWARE_DEFAULTS.baselineRepeats);
    const decision = rule.decide({ goal: 'minimize', candidate: [2.0], incumbent: baseline, otherRuns: [[1, 1.01, 0.99, 1.0, 1.005, 0.995, 1.002, 0.998, 1.001]] });
    expect(decision.keep).toBe(true);
    expect(decision.rerun).toBeUndefined();
    expect(decision.evidence?.test).toMatchObject({ look: 1, maxLooks: 4 });
    expect(decision.evidence?.test?.pValue).toBeLessThan(0.001);
    expect(decision.evidence?.noise?.df).toBe(12);
    expect(decision.reason).toMatch(/beats the noise: improvement 0\.4 ± [\d.]+ \(95%\)/);
  });

  it('discards a clear loser after one run', () => {
    const decision = rule.decide({ goal: 'minimize', candidate: [2.5], incumbent: baseline });
    expect(decision).toMatchObject({ keep: false });
    expect(decision.rerun).toBeUndefined();
    expect(decision.reason).toMatch(/^not better/);
  });

  it('asks for a rerun of a close call, then gives up at the last look', () => {
    const close = rule.decide({ goal: 'minimize', candidate: [2.392], incumbent: baseline });
    expect(close).toMatchObject({ keep: false, rerun: 'candidate' });
    expect(close.reason).toContain('within the noise (look 1 of 4)');
    const last = rule.decide({ goal: 'minimize', candidate: [2.392, 2.401, 2.396, 2.399], incumbent: baseline, look: 4 });
    expect(last.rerun).toBeUndefined();
    expect(last.keep).toBe(false);
    expect(last.reason).toContain('within the noise after 4 looks');
  });

  it('reruns the incumbent when it has fewer runs than the candidate', () => {
    const decision = rule.decide({ goal: 'maximize', candidate: [0.81, 0.8], incumbent: [0.8], otherRuns: [baseline], look: 2 });
    expect(decision.rerun).toBe('incumbent');
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

  it('without any repeated commit it measures again instead of guessing', () => {
    expect(rule.decide({ goal: 'minimize', candidate: [0.9], incumbent: [1] })).toMatchObject({ keep: false, rerun: 'candidate' });
    expect(rule.decide({ goal: 'minimize', candidate: [0.9], incumbent: [1], look: 4 }).rerun).toBeUndefined();
  });

  it('rejects impossible settings', () => {
    expect(() => noiseAwareAcceptance({ ...NOISE_AWARE_DEFAULTS, baselineRepeats: 1 })).toThrow(/baseline_repeats must be an integer ≥ 2/);
    expect(() => noiseAwareAcceptance({ ...NOISE_AWARE_DEFAULTS, confidence: 1 })).toThrow(/confidence/);
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
