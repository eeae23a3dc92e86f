import { describe, expect, it } from 'vitest';
import { Random } from '../../../src/core/random.ts';
import { paramsKey, type Observation, type ParamValues, type SearchSpace } from '../../../src/core/search-space.ts';
import { AutoSampler } from '../../../src/proposers/search/auto-sampler.ts';
import { GpSampler } from '../../../src/proposers/search/gp/gp-sampler.ts';
import type { Sampler } from '../../../src/proposers/search/sampler.ts';
import { TpeSampler } from '../../../src/proposers/search/tpe-sampler.ts';

const space: SearchSpace = { x: { type: 'float', low: -5, high: 5 }, y: { type: 'float', low: -5, high: 5 } };
const loss = (params: ParamValues) => ((params.x as number) - 1) ** 2 + ((params.y as number) + 2) ** 2;

/** A history like a study's after its first 16 trials: a coarse grid, so every sampler has a model. */
const history: Observation[] = Array.from({ length: 16 }, (_, i) => {
  const params = { x: -4.5 + 3 * (i % 4), y: -4.5 + 3 * Math.floor(i / 4) };
  return { params, loss: loss(params) };
});

/** Four proposals for four free slots: each made while the earlier ones are pending (or, `blind`, as if alone). */
function fourSlots(sampler: Sampler, seed: number, blind: boolean): ParamValues[] {
  const rng = Random.fromSeed(seed);
  const proposals: ParamValues[] = [];
  for (let slot = 0; slot < 4; slot++) {
    const pending = blind ? [] : proposals;
    proposals.push(sampler.sample({ space, history, rng, pending, avoid: new Set([...history.map((o) => paramsKey(o.params)), ...proposals.map(paramsKey)]) }).params);
  }
  return proposals;
}

/** The smallest distance between two of the proposals, as a share of the range. */
function closest(points: readonly ParamValues[]): number {
  let min = Number.POSITIVE_INFINITY;
  for (let i = 0; i < points.length; i++) {
    for (let j = 0; j < i; j++) min = Math.min(min, Math.hypot((points[i]!.x as number) - (points[j]!.x as number), (points[i]!.y as number) - (points[j]!.y as number)) / 10);
  }
  return min;
}

const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

describe('constant liar: parallel proposals do not pile up', () => {
  it.each([
    ['gp', () => new GpSampler({ candidates: 128 })],
    ['auto', () => new AutoSampler({ gp: { candidates: 128 } })],
  ] as const)('%s keeps 4 proposals apart where alone it would repeat itself', (_name, make) => {
    const apart: number[] = [];
    const alone: number[] = [];
    for (let seed = 0; seed < 6; seed++) {
      apart.push(closest(fourSlots(make(), seed, false)));
      alone.push(closest(fourSlots(make(), seed, true)));
    }
    // Measured: medians about 0.05 with pending points against about 0.001 without.
    expect(median(apart)).toBeGreaterThan(0.02);
    expect(median(apart)).toBeGreaterThan(10 * median(alone));
  });

  it.each([
    ['tpe (multivariate)', () => new TpeSampler()],
    ['tpe (univariate)', () => new TpeSampler({ multivariate: false })],
  ] as const)('%s spreads 4 proposals wider with the pending ones counted bad', (_name, make) => {
    const apart: number[] = [];
    const alone: number[] = [];
    for (let seed = 0; seed < 40; seed++) {
      apart.push(closest(fourSlots(make(), seed, false)));
      alone.push(closest(fourSlots(make(), seed, true)));
    }
    expect(median(apart)).toBeGreaterThan(1.3 * median(alone));
  });

  it('still proposes inside the space when every slot is pending on the same point', () => {
    const pending = [{ x: 1, y: -2 }, { x: 1, y: -2 }, { x: 1, y: -2 }];
    for (const sampler of [new GpSampler({ candidates: 64 }), new TpeSampler()]) {
      const { params } = sampler.sample({ space, history, rng: Random.fromSeed(1), pending, avoid: new Set([paramsKey({ x: 1, y: -2 })]) });
      expect(Math.abs(params.x as number)).toBeLessThanOrEqual(5);
      expect(Math.abs(params.y as number)).toBeLessThanOrEqual(5);
    }
  });
});
