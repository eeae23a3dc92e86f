import { describe, expect, it } from 'vitest';
import { StrataError } from '../../../src/core/errors.ts';
import { Random } from '../../../src/core/random.ts';
import { paramsKey, type ParamValues, type SearchSpace } from '../../../src/core/search-space.ts';
import { finiteSpaceSize, proposeUnique } from '../../../src/proposers/search/unique-proposal.ts';
import { allPoints } from './arbitraries.ts';

describe('proposeUnique', () => {
  const space: SearchSpace = { a: { type: 'int', low: 0, high: 19 }, b: { type: 'choice', values: ['x', 'y', 'z', 'w', 'v'] } };

  it('returns the proposal untouched when nothing is avoided', () => {
    let calls = 0;
    const params = proposeUnique(space, new Set(), Random.fromSeed(1), () => {
      calls++;
      return { a: 3, b: 'x' };
    });
    expect(params).toEqual({ a: 3, b: 'x' });
    expect(calls).toBe(1);
  });

  it('retries the sampler, then draws at random, then finds the one free point of a finite space', () => {
    const points = allPoints(space);
    const free = points[37]!;
    const avoid = new Set(points.filter((point) => point !== free).map(paramsKey));
    let calls = 0;
    const stuck = (): ParamValues => {
      calls++;
      return { a: 0, b: 'x' };
    };
    for (let seed = 0; seed < 5; seed++) expect(proposeUnique(space, avoid, Random.fromSeed(seed), stuck)).toEqual(free);
    expect(calls).toBe(5 * 8);
  });

  it('throws search_exhausted with the size when every point is avoided', () => {
    const avoid = new Set(allPoints(space).map(paramsKey));
    let caught: unknown;
    try {
      proposeUnique(space, avoid, Random.fromSeed(1), () => ({ a: 0, b: 'x' }));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(StrataError);
    expect((caught as StrataError).code).toBe('search_exhausted');
    expect((caught as StrataError).message).toMatch(/all 100 parameter sets/);
    expect((caught as StrataError).details).toEqual({ size: 100, avoided: 100 });
  });

  it('does not count avoided keys from outside the space as coverage', () => {
    const avoid = new Set([...allPoints(space).slice(1), { a: 99, b: 'q' }].map(paramsKey));
    const params = proposeUnique(space, avoid, Random.fromSeed(2), () => ({ a: 0, b: 'w' }));
    expect(params).toEqual(allPoints(space)[0]);
  });

  it('sizes finite spaces and calls any float dimension infinite', () => {
    expect(finiteSpaceSize(space)).toBe(100);
    expect(finiteSpaceSize({})).toBe(1);
    expect(finiteSpaceSize({ ...space, lr: { type: 'float', low: 0, high: 1 } })).toBe(Number.POSITIVE_INFINITY);
  });
});
