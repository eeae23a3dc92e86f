import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/core/errors.ts';
import { Random } from '../../../src/core/random.ts';
import type { Observation, ParamValues, SearchSpace } from '../../../src/core/search-space.ts';
import { RandomSampler } from '../../../src/proposers/search/random-sampler.ts';
import type { Sampler } from '../../../src/proposers/search/sampler.ts';
import { defaultGamma, defaultWeights, TpeSampler } from '../../../src/proposers/search/tpe-sampler.ts';

/** Run `trials` sequential proposals and return them with their losses. */
function optimize(sampler: Sampler, space: SearchSpace, loss: (params: ParamValues) => number | null, seed: string, trials = 40): Observation[] {
  const rng = Random.fromSeed(seed);
  const history: Observation[] = [];
  for (let trial = 0; trial < trials; trial++) {
    const { params } = sampler.sample({ space, history, rng });
    history.push({ params, loss: loss(params) });
  }
  return history;
}

const mean = (values: readonly number[]): number => values.reduce((sum, value) => sum + value, 0) / values.length;

describe('Optuna defaults', () => {
  it('gamma takes the best 10% (rounded up), at most 25', () => {
    expect([1, 10, 11, 40, 100, 249, 250, 1000].map(defaultGamma)).toEqual([1, 1, 2, 4, 10, 25, 25, 25]);
  });

  it('weights are flat below 25 observations, then ramp up from 1/n for the oldest', () => {
    expect(defaultWeights(0)).toEqual([]);
    expect(defaultWeights(24)).toEqual(new Array(24).fill(1));
    const weights = defaultWeights(30);
    expect(weights).toHaveLength(30);
    expect(weights[0]).toBeCloseTo(1 / 30);
    expect(weights[4]).toBeCloseTo(1);
    expect(weights.slice(5)).toEqual(new Array(25).fill(1));
    for (let i = 1; i < weights.length; i++) expect(weights[i]!).toBeGreaterThanOrEqual(weights[i - 1]!);
    expect(defaultWeights(26)[0]).toBeCloseTo(1 / 26);
  });
});

describe('TpeSampler', () => {
  it('draws exactly what the random sampler draws during the startup trials', () => {
    const space: SearchSpace = { lr: { type: 'float', low: 1e-4, high: 1, log: true }, width: { type: 'int', low: 8, high: 512, log: true }, act: { type: 'choice', values: ['relu', 'gelu'] } };
    const history: Observation[] = [{ params: { lr: 0.01, width: 64, act: 'relu' }, loss: 1 }];
    const tpe = new TpeSampler({ nStartupTrials: 5 }).sample({ space, history, rng: Random.fromSeed(9) });
    const random = new RandomSampler().sample({ space, history, rng: Random.fromSeed(9) });
    expect(tpe.params).toEqual(random.params);
    expect(tpe.startup).toBe(true);
  });

  it('concentrates near the optimum of a 1-D quadratic better than random search', () => {
    const space: SearchSpace = { x: { type: 'float', low: -5, high: 5 } };
    const loss = (params: ParamValues): number => ((params.x as number) - 1.3) ** 2;
    const summary = (sampler: Sampler): { best: number; distance: number } => {
      const bests: number[] = [];
      const distances: number[] = [];
      for (let seed = 100; seed < 120; seed++) {
        const history = optimize(sampler, space, loss, `quadratic:${seed}`);
        bests.push(Math.min(...history.map((observation) => observation.loss as number)));
        distances.push(mean(history.slice(20).map((observation) => Math.abs((observation.params.x as number) - 1.3))));
      }
      return { best: mean(bests), distance: mean(distances) };
    };
    const tpe = summary(new TpeSampler({ multivariate: false }));
    const multivariate = summary(new TpeSampler());
    const random = summary(new RandomSampler());
    // Measured: best 1.3e-3 vs 4.2e-2, distance 1.25 vs 2.68; the margins leave room for numeric drift.
    expect(tpe.best).toBeLessThan(0.25 * random.best);
    expect(tpe.distance).toBeLessThan(0.7 * random.distance);
    expect(multivariate.best).toBeLessThan(0.25 * random.best);
    expect(multivariate.distance).toBeLessThan(0.7 * random.distance);
  });

  it('finds the best value of a log-scaled int and of a choice more often than chance', () => {
    const space: SearchSpace = { width: { type: 'int', low: 1, high: 1024, log: true }, optimizer: { type: 'choice', values: ['sgd', 'adam', 'lion', 'adagrad'] } };
    const loss = (params: ParamValues): number => Math.log2((params.width as number) / 64) ** 2 + (params.optimizer === 'lion' ? 0 : 3);
    let lionShare = 0;
    let widthError = 0;
    for (let seed = 0; seed < 10; seed++) {
      const late = optimize(new TpeSampler(), space, loss, `mixed:${seed}`).slice(20);
      lionShare += late.filter((observation) => observation.params.optimizer === 'lion').length / late.length / 10;
      widthError += mean(late.map((observation) => Math.abs(Math.log2((observation.params.width as number) / 64)))) / 10;
    }
    expect(lionShare).toBeGreaterThan(0.5); // chance is 0.25
    expect(widthError).toBeLessThan(2); // log-uniform over [1, 1024] averages about 3.2 doublings from 64
  });

  it('steers away from regions where trials crashed', () => {
    const space: SearchSpace = { lr: { type: 'float', low: 0, high: 1 } };
    // Every trial crashed, all of them with lr below 0.5 (as divergence would).
    const history: Observation[] = Array.from({ length: 20 }, (_, i) => ({ params: { lr: (i + 0.5) / 40 }, loss: null }));
    let above = 0;
    for (let seed = 0; seed < 100; seed++) {
      const { lr } = new TpeSampler().sample({ space, history, rng: Random.fromSeed(seed) }).params;
      if ((lr as number) > 0.5) above++;
    }
    expect(above).toBeGreaterThan(80);
  });

  it('treats NaN and infinite losses as crashes and never ranks them good', () => {
    const space: SearchSpace = { x: { type: 'float', low: 0, high: 1 } };
    const history: Observation[] = [
      ...Array.from({ length: 12 }, (_, i) => ({ params: { x: 0.05 + i * 0.01 }, loss: Number.NEGATIVE_INFINITY })),
      ...Array.from({ length: 12 }, (_, i) => ({ params: { x: 0.8 + i * 0.01 }, loss: i })),
    ];
    const proposals = Array.from({ length: 40 }, (_, seed) => new TpeSampler({ multivariate: false }).sample({ space, history, rng: Random.fromSeed(seed) }).params.x as number);
    expect(proposals.filter((x) => x > 0.5).length).toBeGreaterThan(32);
    // Exactly as if those trials had crashed, in both modes.
    const crashed = history.map((observation) => (Number.isFinite(observation.loss) ? observation : { ...observation, loss: null }));
    for (const multivariate of [false, true]) {
      for (let seed = 0; seed < 10; seed++) {
        const tpe = new TpeSampler({ multivariate });
        expect(tpe.sample({ space, history, rng: Random.fromSeed(seed) })).toEqual(tpe.sample({ space, history: crashed, rng: Random.fromSeed(seed) }));
      }
    }
  });

  it('rejects invalid options all at once', () => {
    let caught: unknown;
    try {
      new TpeSampler({ nStartupTrials: -1, nEiCandidates: 0, priorWeight: 0 });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).issues.map((issue) => issue.path)).toEqual(['tpe.nStartupTrials', 'tpe.nEiCandidates', 'tpe.priorWeight']);
  });

  it('rejects a weights function that returns the wrong number of weights', () => {
    const sampler = new TpeSampler({ nStartupTrials: 0, weights: () => [1] });
    const history: Observation[] = [{ params: { x: 0.1 }, loss: 1 }, { params: { x: 0.2 }, loss: 2 }, { params: { x: 0.3 }, loss: 3 }];
    expect(() => sampler.sample({ space: { x: { type: 'float', low: 0, high: 1 } }, history, rng: Random.fromSeed(1) })).toThrow(/tpe\.weights/);
  });
});
