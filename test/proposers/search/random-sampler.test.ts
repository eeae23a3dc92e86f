import { describe, expect, it } from 'vitest';
import { Random } from '../../../src/core/random.ts';
import type { ParamSpec } from '../../../src/core/search-space.ts';
import { drawRandomValue } from '../../../src/proposers/search/random-draw.ts';
import { RandomSampler } from '../../../src/proposers/search/random-sampler.ts';

function draws(spec: ParamSpec, count: number, seed = 1): number[] {
  const rng = Random.fromSeed(seed);
  return Array.from({ length: count }, () => drawRandomValue(spec, rng) as number);
}

const share = (values: readonly number[], predicate: (value: number) => boolean): number => values.filter(predicate).length / values.length;

describe('RandomSampler', () => {
  it('reaches both ends of an int range', () => {
    const values = draws({ type: 'int', low: -1, high: 1 }, 300);
    expect(new Set(values)).toEqual(new Set([-1, 0, 1]));
    for (const count of [-1, 0, 1].map((v) => values.filter((value) => value === v).length)) expect(count).toBeGreaterThan(70);
  });

  it('draws log floats log-uniformly: half of them below the geometric mean', () => {
    const values = draws({ type: 'float', low: 1e-6, high: 1, log: true }, 4000);
    expect(share(values, (value) => value < 1e-3)).toBeCloseTo(0.5, 1);
    expect(share(values, (value) => value < 1e-5)).toBeCloseTo(1 / 6, 1);
  });

  it('draws log ints with mass log((k + 0.5) / (k - 0.5)) per integer k, both ends included', () => {
    const spec: ParamSpec = { type: 'int', low: 1, high: 1000, log: true };
    const values = draws(spec, 20000);
    const total = Math.log(1000.5 / 0.5);
    expect(share(values, (value) => value === 1)).toBeCloseTo(Math.log(1.5 / 0.5) / total, 2);
    expect(share(values, (value) => value <= 31)).toBeCloseTo(Math.log(31.5 / 0.5) / total, 2);
    expect(values).toContain(1000);
    expect(values.every((value) => Number.isInteger(value) && value >= 1 && value <= 1000)).toBe(true);
  });

  it('keeps floats inside bounds that exp(log(x)) would round across', () => {
    const spec: ParamSpec = { type: 'float', low: 0.1, high: 0.30000000000000004, log: true };
    const values = draws(spec, 2000);
    expect(values.every((value) => value >= 0.1 && value <= 0.30000000000000004)).toBe(true);
  });

  it('picks every choice about equally often', () => {
    const rng = Random.fromSeed(5);
    const counts = new Map<unknown, number>();
    for (let i = 0; i < 3000; i++) {
      const value = drawRandomValue({ type: 'choice', values: ['a', 1, false] }, rng);
      counts.set(value, (counts.get(value) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual([1, 'a', false].sort());
    for (const count of counts.values()) expect(count / 3000).toBeCloseTo(1 / 3, 1);
  });

  it('ignores history and does not depend on the order of the space keys', () => {
    const sampler = new RandomSampler();
    const a = sampler.sample({ space: { x: { type: 'float', low: 0, high: 1 }, y: { type: 'int', low: 0, high: 9 } }, history: [], rng: Random.fromSeed(2) });
    const b = sampler.sample({ space: { y: { type: 'int', low: 0, high: 9 }, x: { type: 'float', low: 0, high: 1 } }, history: [{ params: { x: 0.5, y: 1 }, loss: 3 }], rng: Random.fromSeed(2) });
    expect(b).toEqual(a);
    expect(sampler.name).toBe('random');
  });
});
