import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/core/errors.ts';
import { Random } from '../../../src/core/random.ts';
import type { Observation, ParamValues, SearchSpace } from '../../../src/core/search-space.ts';
import { cholesky, inverseFromCholesky, solveLower, solveUpperTransposed } from '../../../src/proposers/search/gp/cholesky.ts';
import { logExpectedImprovement, logH } from '../../../src/proposers/search/gp/expected-improvement.ts';
import { defaultPriors, GaussianProcess, negativeLogPosterior, pairSquaredDistances } from '../../../src/proposers/search/gp/gaussian-process.ts';
import { GpSampler } from '../../../src/proposers/search/gp/gp-sampler.ts';
import { minimizeBox } from '../../../src/proposers/search/gp/lbfgs.ts';
import { normalQuantile, transformLosses } from '../../../src/proposers/search/gp/output-transform.ts';
import { SpaceEncoding } from '../../../src/proposers/search/gp/space-encoding.ts';
import { RandomSampler } from '../../../src/proposers/search/random-sampler.ts';
import type { Sampler } from '../../../src/proposers/search/sampler.ts';
import { logNormalCdf } from '../../../src/proposers/search/truncated-normal.ts';
import { conditionalSpace, searchSpace, validValue } from './arbitraries.ts';

/** Central finite difference of f at x along coordinate j. */
function numeric(f: (x: Float64Array) => number, x: Float64Array, j: number, h = 1e-6): number {
  const up = Float64Array.from(x);
  const down = Float64Array.from(x);
  up[j]! += h;
  down[j]! -= h;
  return (f(up) - f(down)) / (2 * h);
}

describe('linear algebra', () => {
  it('factors, solves and inverts a positive definite matrix', () => {
    const a = new Float64Array([4, 2, 0.4, 2, 3, 0.5, 0.4, 0.5, 2]);
    const l = cholesky(a, 3)!;
    const b = [1, 2, 3];
    const x = solveUpperTransposed(l, 3, solveLower(l, 3, b));
    for (let i = 0; i < 3; i++) expect(a[3 * i]! * x[0]! + a[3 * i + 1]! * x[1]! + a[3 * i + 2]! * x[2]!).toBeCloseTo(b[i]!, 12);
    const inverse = inverseFromCholesky(l, 3);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) expect([0, 1, 2].reduce((sum, k) => sum + a[3 * i + k]! * inverse[3 * k + j]!, 0)).toBeCloseTo(i === j ? 1 : 0, 12);
    expect(cholesky(new Float64Array([1, 2, 2, 1]), 2)).toBeUndefined();
  });

  it('minimizes inside a box and stops on the bound the minimum lies beyond', () => {
    const objective = (x: Float64Array) => ({ value: (x[0]! - 3) ** 2 + 10 * (x[1]! + 0.5) ** 2, gradient: new Float64Array([2 * (x[0]! - 3), 20 * (x[1]! + 0.5)]) });
    const { x } = minimizeBox(objective, new Float64Array([0.5, 0.5]), { lower: [0, -1], upper: [1, 1], maxIterations: 50 });
    expect(x[0]).toBe(1);
    expect(x[1]).toBeCloseTo(-0.5, 6);
  });
});

describe('Gaussian process', () => {
  const rng = Random.fromSeed(2);
  const inputs = Array.from({ length: 14 }, () => Float64Array.from({ length: 3 }, () => rng.next()));
  const targets = Float64Array.from(inputs, (x) => Math.sin(3 * x[0]!) + x[1]! * x[1]! - 0.5 * x[2]!);

  it('has the exact gradient of its fitting objective', () => {
    const squared = pairSquaredDistances(Float64Array.from(inputs.flatMap((x) => [...x])), 14, 3);
    const theta = new Float64Array([-1, 0.2, 0.5, 0.3, -3]);
    const value = (t: Float64Array) => negativeLogPosterior(t, squared, targets, 14, 3, defaultPriors(3)).value;
    const { gradient } = negativeLogPosterior(theta, squared, targets, 14, 3, defaultPriors(3));
    for (let j = 0; j < theta.length; j++) expect(gradient[j]).toBeCloseTo(numeric(value, theta, j), 5);
  });

  it('interpolates what it saw and predicts with exact gradients elsewhere', () => {
    const gp = GaussianProcess.fit(inputs, targets, { priors: defaultPriors(3), maxIterations: 40 });
    expect(gp.predict(inputs[0]!).mean).toBeCloseTo(targets[0]!, 2);
    expect(gp.predict(inputs[0]!).variance).toBeLessThan(1e-3);
    const x = new Float64Array([0.3, 0.6, 0.2]);
    const prediction = gp.predict(x, true);
    for (let j = 0; j < 3; j++) {
      expect(prediction.meanGradient![j]).toBeCloseTo(numeric((p) => gp.predict(p).mean, x, j), 5);
      expect(prediction.varianceGradient![j]).toBeCloseTo(numeric((p) => gp.predict(p).variance, x, j), 5);
    }
    const best = -0.5;
    const { gradient } = logExpectedImprovement(prediction.mean, prediction.variance, best, prediction.meanGradient, prediction.varianceGradient);
    for (let j = 0; j < 3; j++) {
      const acquisition = (p: Float64Array) => {
        const { mean, variance } = gp.predict(p);
        return logExpectedImprovement(mean, variance, best).value;
      };
      expect(gradient![j]! / numeric(acquisition, x, j)).toBeCloseTo(1, 4);
    }
  });

  it('sees noise as noise: the fit also starts from a noisy model and keeps the better posterior', () => {
    // A weak signal under noise of sd 1, 20 points: from a near-noiseless start alone L-BFGS mostly
    // stops at a short-lengthscale interpolation that calls it almost all signal.
    const space: SearchSpace = { a: { type: 'float', low: 0, high: 1 }, b: { type: 'float', low: 0, high: 1 } };
    const options = { priors: defaultPriors(2), maxIterations: 20 };
    let interpolated = 0;
    let noisy = 0;
    for (let seed = 1; seed <= 12; seed++) {
      const rng = Random.fromSeed(seed);
      const history: Observation[] = Array.from({ length: 20 }, () => {
        const params = { a: rng.next(), b: rng.next() };
        return { params, loss: Math.sin(6 * params.a) + rng.normal(0, 1) };
      });
      const inputs = history.map(({ params }) => Float64Array.from([params.a as number, params.b as number]));
      const targets = transformLosses(history.map(({ loss }) => loss as number), 'standardize');
      const single = GaussianProcess.fit(inputs, targets, { ...options, noiseStarts: [1e-3] });
      const both = GaussianProcess.fit(inputs, targets, { ...options, noiseStarts: [1e-3, 0.1] });
      const squared = pairSquaredDistances(Float64Array.from(inputs.flatMap((x) => [...x])), 20, 2);
      const posterior = (gp: GaussianProcess) => negativeLogPosterior(Float64Array.from([...Array.from(gp.lengthscales, Math.log), Math.log(gp.signal), Math.log(gp.noise)]), squared, targets, 20, 2, options.priors).value;
      expect(posterior(both)).toBeLessThanOrEqual(posterior(single) + 1e-9);
      if (single.signal / single.noise > 100) interpolated++;
      // The sampler's default fit is the two-start one.
      const model = new GpSampler({ outputTransform: 'standardize' }).fit({ space, history })!;
      expect(model.signalToNoise).toBeCloseTo(both.signal / both.noise, 6);
      if (model.signalToNoise < 5) noisy++;
    }
    expect(interpolated).toBeGreaterThanOrEqual(9);
    expect(noisy).toBeGreaterThanOrEqual(7);
  });

  it('keeps log EI smooth where EI itself underflows', () => {
    expect(logH(0)).toBeCloseTo(Math.log(1 / Math.sqrt(2 * Math.PI)), 12);
    // Increasing, and continuous where the direct form hands over to the asymptotic series.
    expect(logH(-19.999999) - logH(-20.000001)).toBeGreaterThan(0);
    expect(Math.abs(logH(-19.999999) - logH(-20.000001))).toBeLessThan(1e-4);
    for (let z = -30; z < 5; z += 0.25) expect(logH(z + 0.25)).toBeGreaterThan(logH(z));
    expect(Number.isFinite(logH(-40))).toBe(true);
    expect(logH(-40)).toBeLessThan(logH(-39));
  });

  it('transforms losses monotonically, standardized', () => {
    for (let q = 0.001; q < 1; q += 0.0737) expect(Math.exp(logNormalCdf(normalQuantile(q)))).toBeCloseTo(q, 7);
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 2, maxLength: 30 }), fc.constantFrom('rank', 'log', 'standardize' as const), (losses, transform) => {
        const y = transformLosses(losses, transform);
        for (let i = 0; i < losses.length; i++) {
          expect(Number.isFinite(y[i]!)).toBe(true);
          for (let j = 0; j < losses.length; j++) if (losses[i]! < losses[j]!) expect(y[i]!).toBeLessThanOrEqual(y[j]!);
        }
      }),
    );
  });
});

describe('SpaceEncoding', () => {
  it('round-trips every valid parameter set through the unit cube', () => {
    fc.assert(
      fc.property(
        fc.oneof(searchSpace, conditionalSpace).chain((space) => {
          const names = Object.keys(space);
          return fc.tuple(fc.constant(space), fc.tuple(...names.map((name) => validValue(space[name]!))).map((values) => Object.fromEntries(names.map((name, i) => [name, values[i]!])) as ParamValues));
        }),
        ([space, params]) => {
          const encoding = new SpaceEncoding(space);
          const x = encoding.encode(params);
          expect(x.every((value) => value >= 0 && value <= 1)).toBe(true);
          const decoded = encoding.decode(x);
          for (const [name, value] of Object.entries(decoded)) {
            const spec = space[name]!;
            // A log-scale float comes back through exp(log(x)): equal up to a relative rounding error, whatever its magnitude.
            if (spec.type === 'float' && spec.log) expect(Math.abs((value as number) / (params[name] as number) - 1)).toBeLessThan(1e-9);
            else if (spec.type === 'float') expect(value as number).toBeCloseTo(params[name] as number, 4);
            else expect(value).toEqual(params[name]);
          }
        },
      ),
    );
  });
});

function optimize(sampler: Sampler, space: SearchSpace, loss: (params: ParamValues) => number, seed: number, trials: number): number {
  const rng = Random.fromSeed(`gp-test:${seed}`);
  const history: Observation[] = [];
  for (let trial = 0; trial < trials; trial++) {
    const { params } = sampler.sample({ space, history, rng });
    history.push({ params, loss: loss(params) });
  }
  return Math.min(...history.map((observation) => observation.loss as number));
}

describe('GpSampler', () => {
  it('finds the valley of a 2-D function with a log-scaled parameter far better than random search', () => {
    const space: SearchSpace = { lr: { type: 'float', low: 1e-5, high: 1, log: true }, warmup: { type: 'int', low: 0, high: 2000 } };
    const loss = (params: ParamValues) => (Math.log10(params.lr as number) + 3.2) ** 2 + ((params.warmup as number) / 1000 - 0.4 - 0.2 * (Math.log10(params.lr as number) + 3.2)) ** 2;
    const gp: number[] = [];
    const random: number[] = [];
    for (let seed = 0; seed < 5; seed++) {
      gp.push(optimize(new GpSampler({ candidates: 128 }), space, loss, seed, 25));
      random.push(optimize(new RandomSampler(), space, loss, seed, 25));
    }
    const median = (values: number[]) => values.sort((a, b) => a - b)[2]!;
    expect(median(gp)).toBeLessThan(0.1 * median(random));
  });

  it('starts space-filling: no two startup points close together', () => {
    const space: SearchSpace = { x: { type: 'float', low: 0, high: 1 }, y: { type: 'float', low: 0, high: 1 } };
    const sampler = new GpSampler({ nStartupTrials: 6 });
    const rng = Random.fromSeed(3);
    const history: Observation[] = [];
    for (let i = 0; i < 6; i++) {
      const result = sampler.sample({ space, history, rng });
      expect(result).toMatchObject({ sampler: 'gp', startup: true });
      history.push({ params: result.params, loss: 0 });
    }
    const points = history.map((observation) => [observation.params.x as number, observation.params.y as number]);
    let closest = Number.POSITIVE_INFINITY;
    for (let i = 0; i < points.length; i++) for (let j = 0; j < i; j++) closest = Math.min(closest, Math.hypot(points[i]![0]! - points[j]![0]!, points[i]![1]! - points[j]![1]!));
    // Six uniform points in the unit square come this close about half the time; a maximin design keeps them apart.
    expect(closest).toBeGreaterThan(0.15);
  });

  it('steers away from where trials crashed', () => {
    const space: SearchSpace = { lr: { type: 'float', low: 0, high: 1 } };
    const history: Observation[] = [
      ...Array.from({ length: 8 }, (_, i) => ({ params: { lr: 0.05 + i * 0.05 }, loss: null })),
      ...Array.from({ length: 4 }, (_, i) => ({ params: { lr: 0.6 + i * 0.1 }, loss: 1 + i * 0.1 })),
    ];
    for (let seed = 0; seed < 5; seed++) expect(new GpSampler({ candidates: 64 }).sample({ space, history, rng: Random.fromSeed(seed) }).params.lr as number).toBeGreaterThan(0.42);
  });

  it('rejects invalid options all at once', () => {
    let caught: unknown;
    try {
      new GpSampler({ nStartupTrials: 0, candidates: 0, maxObservations: 1 });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).issues.map((issue) => issue.path)).toEqual(['gp.nStartupTrials', 'gp.candidates', 'gp.maxObservations']);
  });
});
