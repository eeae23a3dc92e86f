import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StrataError } from '../../../src/core/errors.ts';
import { Random } from '../../../src/core/random.ts';
import { paramsKey, type Observation, type SearchSpace } from '../../../src/core/search-space.ts';
import { RandomSampler } from '../../../src/proposers/search/random-sampler.ts';
import type { Sampler } from '../../../src/proposers/search/sampler.ts';
import { TpeSampler } from '../../../src/proposers/search/tpe-sampler.ts';
import { allPoints, historyFor, searchSpace, smallFiniteSpace, validValue, violations } from './arbitraries.ts';

// The contract every sampler keeps, run against each implementation.
const samplers: Array<[string, () => Sampler]> = [
  ['random', () => new RandomSampler()],
  ['tpe (defaults)', () => new TpeSampler()],
  ['tpe (no startup)', () => new TpeSampler({ nStartupTrials: 0 })],
  ['tpe (3 startup, 4 candidates)', () => new TpeSampler({ nStartupTrials: 3, nEiCandidates: 4 })],
];

const spaceWithHistory = searchSpace.chain((space) => fc.tuple(fc.constant(space), historyFor(space)));

describe.each(samplers)('sampler contract: %s', (_label, make) => {
  it('proposes exactly the declared parameters, each with the right type and inside its bounds', () => {
    fc.assert(
      fc.property(spaceWithHistory, fc.integer(), ([space, history], seed) => {
        const params = make().sample(space, history, Random.fromSeed(seed));
        expect(violations(space, params)).toEqual([]);
      }),
      { numRuns: 150 },
    );
  });

  it('is deterministic: the same space, history and generator state give the same proposal', () => {
    fc.assert(
      fc.property(spaceWithHistory, fc.integer(), ([space, history], seed) => {
        const rng = Random.fromSeed(seed);
        const saved = rng.state();
        const first = make().sample(space, history, rng);
        const second = make().sample(space, history, Random.fromState(saved));
        expect(second).toEqual(first);
        // The generator advanced, and a fresh sampler instance changes nothing.
        expect(rng.state()).not.toEqual(saved);
      }),
      { numRuns: 60 },
    );
  });

  it('never proposes a key in avoid, and throws search_exhausted only when every point is avoided', () => {
    const scenario = smallFiniteSpace.chain((space) => {
      const points = allPoints(space);
      return fc.tuple(fc.constant(space), fc.subarray(points), fc.integer(), fc.boolean());
    });
    fc.assert(
      fc.property(scenario, ([space, avoided, seed, withHistory]) => {
        const avoid = new Set(avoided.map(paramsKey));
        // Avoided points are usually ones already run, so they also make a history.
        const history: Observation[] = withHistory ? avoided.map((params, i) => ({ params, loss: i % 5 === 4 ? null : (i * 7919) % 13 })) : [];
        const exhausted = avoid.size === allPoints(space).length;
        let proposed: ReturnType<Sampler['sample']> | undefined;
        let error: unknown;
        try {
          proposed = make().sample(space, history, Random.fromSeed(seed), avoid);
        } catch (caught) {
          error = caught;
        }
        if (exhausted) {
          expect(error).toBeInstanceOf(StrataError);
          expect((error as StrataError).code).toBe('search_exhausted');
        } else {
          expect(error).toBeUndefined();
          expect(violations(space, proposed!)).toEqual([]);
          expect(avoid.has(paramsKey(proposed!))).toBe(false);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('steps around an avoided proposal in a continuous space', () => {
    const space: SearchSpace = { lr: { type: 'float', low: 1e-5, high: 1e-1, log: true }, layers: { type: 'int', low: 1, high: 3 } };
    const history: Observation[] = Array.from({ length: 12 }, (_, i) => ({ params: { lr: 10 ** (-5 + (i % 4)), layers: 1 + (i % 3) }, loss: i }));
    const first = make().sample(space, history, Random.fromSeed(3));
    const second = make().sample(space, history, Random.fromSeed(3), new Set([paramsKey(first)]));
    expect(paramsKey(second)).not.toBe(paramsKey(first));
    expect(violations(space, second)).toEqual([]);
  });

  it('rejects an invalid space with a config error naming the dot path', () => {
    const space: SearchSpace = { lr: { type: 'float', low: 0, high: 1, log: true } };
    expect(() => make().sample(space, [], Random.fromSeed(1))).toThrow(/research\.params\.lr\.low/);
  });

  it('accepts the empty space once and then reports it exhausted', () => {
    expect(make().sample({}, [], Random.fromSeed(1))).toEqual({});
    expect(() => make().sample({}, [], Random.fromSeed(1), new Set([paramsKey({})]))).toThrow(expect.objectContaining({ code: 'search_exhausted' }));
  });

  it('uses values valid for the space even when the history holds values outside it', () => {
    const space: SearchSpace = { depth: { type: 'int', low: 2, high: 4 } };
    fc.assert(
      fc.property(fc.array(validValue({ type: 'int', low: -50, high: 50 }), { minLength: 12, maxLength: 30 }), fc.integer(), (depths, seed) => {
        const history = depths.map((depth, i) => ({ params: { depth }, loss: i }));
        expect(violations(space, make().sample(space, history, Random.fromSeed(seed)))).toEqual([]);
      }),
      { numRuns: 40 },
    );
  });
});
