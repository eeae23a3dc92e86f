import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Random } from '../../../src/core/random.ts';
import type { ParamSpec } from '../../../src/core/search-space.ts';
import { buildParzenEstimator, isValidValue, type ParzenOptions } from '../../../src/proposers/search/parzen-estimator.ts';
import { logNormalCdf, logNormalMass, logSumExp } from '../../../src/proposers/search/truncated-normal.ts';
import { validValue } from './arbitraries.ts';

const options: ParzenOptions = { priorWeight: 1, considerMagicClip: true, considerEndpoints: false };

describe('truncated-normal math', () => {
  it('matches reference values of the normal CDF, tails included', () => {
    expect(Math.exp(logNormalMass(-1, 1))).toBeCloseTo(0.682689492, 6);
    expect(Math.exp(logNormalMass(1.5, 2.5))).toBeCloseTo(0.0606, 4);
    expect(logNormalCdf(0)).toBeCloseTo(Math.log(0.5), 7);
    // Φ(-10) = 7.6198530241605e-24 and Φ(-38) ≈ 2.885428351e-316 (subnormal): still exact in log form.
    expect(logNormalCdf(-10)).toBeCloseTo(Math.log(7.6198530241605e-24), 5);
    expect(logNormalCdf(-38) / Math.log(2.885428351e-316)).toBeCloseTo(1, 6);
  });

  it('keeps narrow and far-tail intervals precise and symmetric', () => {
    expect(Math.exp(logNormalMass(0.2, 0.2001))).toBeCloseTo(0.0001 * Math.exp(-0.5 * 0.20005 ** 2) / Math.sqrt(2 * Math.PI), 12);
    expect(logNormalMass(-40, -39)).toBeCloseTo(logNormalMass(39, 40), 6);
    expect(Number.isFinite(logNormalMass(-40, -39))).toBe(true);
    expect(logNormalMass(1, 1)).toBe(Number.NEGATIVE_INFINITY);
  });

  it('adds in log space without overflow', () => {
    expect(logSumExp([1000, 1000])).toBeCloseTo(1000 + Math.LN2, 10);
    expect(logSumExp([])).toBe(Number.NEGATIVE_INFINITY);
  });
});

describe('buildParzenEstimator', () => {
  it('gives an int dimension masses that sum to 1 over its integers, linear or log', () => {
    for (const spec of [{ type: 'int', low: -3, high: 12 }, { type: 'int', low: 1, high: 300, log: true }] as ParamSpec[]) {
      if (spec.type !== 'int') continue;
      const estimator = buildParzenEstimator(spec, [spec.low, spec.low + 1, spec.high], [1, 1, 1], options);
      let total = 0;
      for (let k = spec.low; k <= spec.high; k++) total += Math.exp(estimator.logDensity(k));
      expect(total).toBeCloseTo(1, 6);
    }
  });

  it('gives a float dimension a density that integrates to 1 in the (log-)transformed space', () => {
    for (const [spec, forward] of [
      [{ type: 'float', low: -2, high: 3 }, (x: number) => x],
      [{ type: 'float', low: 1e-4, high: 1, log: true }, Math.log],
    ] as Array<[ParamSpec & { type: 'float' }, (x: number) => number]>) {
      const estimator = buildParzenEstimator(spec, [spec.low, spec.high * 0.5, spec.high], [0.5, 1, 1], options);
      const a = forward(spec.low);
      const b = forward(spec.high);
      const steps = 20000;
      let integral = 0;
      for (let i = 0; i < steps; i++) {
        const t = a + ((i + 0.5) * (b - a)) / steps;
        integral += (Math.exp(estimator.logDensity(spec.log ? Math.exp(t) : t)) * (b - a)) / steps;
      }
      expect(integral).toBeCloseTo(1, 3);
    }
  });

  it('gives choices masses that sum to 1 and favour observed values', () => {
    const spec: ParamSpec = { type: 'choice', values: ['a', 'b', 'c'] };
    const estimator = buildParzenEstimator(spec, ['a', 'a', 'b'], [1, 1, 1], options);
    const masses = spec.values.map((value) => Math.exp(estimator.logDensity(value)));
    expect(masses.reduce((sum, mass) => sum + mass, 0)).toBeCloseTo(1, 10);
    expect(masses[0]!).toBeGreaterThan(masses[1]!);
    expect(masses[1]!).toBeGreaterThan(masses[2]!);
    expect(masses[2]!).toBeGreaterThan(0);
  });

  it('is the prior alone when nothing was observed', () => {
    const estimator = buildParzenEstimator({ type: 'choice', values: [1, 2, 3, 4] }, [], [], options);
    expect(Math.exp(estimator.logDensity(3))).toBeCloseTo(0.25, 12);
  });

  it('samples valid values for any dimension and observations', () => {
    const specWithValues = fc
      .oneof(
        fc.constant<ParamSpec>({ type: 'float', low: -1, high: 1 }),
        fc.constant<ParamSpec>({ type: 'float', low: 1e-6, high: 1e-2, log: true }),
        fc.constant<ParamSpec>({ type: 'int', low: 0, high: 3 }),
        fc.constant<ParamSpec>({ type: 'int', low: 2, high: 4096, log: true }),
        fc.constant<ParamSpec>({ type: 'choice', values: [true, 'x', 3] }),
      )
      .chain((spec) => fc.tuple(fc.constant(spec), fc.array(validValue(spec), { maxLength: 30 })));
    fc.assert(
      fc.property(specWithValues, fc.integer(), fc.boolean(), ([spec, values], seed, considerEndpoints) => {
        const estimator = buildParzenEstimator(spec, values, values.map(() => 1), { ...options, considerEndpoints });
        const rng = Random.fromSeed(seed);
        for (let i = 0; i < 20; i++) {
          const value = estimator.sample(rng);
          expect(isValidValue(spec, value)).toBe(true);
          expect(Number.isFinite(estimator.logDensity(value))).toBe(true);
        }
      }),
      { numRuns: 100 },
    );
  });
});
