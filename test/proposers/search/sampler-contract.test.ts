import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StrataError } from '../../../src/core/errors.ts';
import { Random } from '../../../src/core/random.ts';
import type { Random as RandomType } from '../../../src/core/random.ts';
import { activeOnly, paramsKey, type Observation, type ParamValues, type SearchSpace } from '../../../src/core/search-space.ts';
import { AutoSampler } from '../../../src/proposers/search/auto-sampler.ts';
import { GpSampler } from '../../../src/proposers/search/gp/gp-sampler.ts';
import { RandomSampler } from '../../../src/proposers/search/random-sampler.ts';
import type { Sampler } from '../../../src/proposers/search/sampler.ts';
import { TpeSampler } from '../../../src/proposers/search/tpe-sampler.ts';
import { allPoints, conditionalSpace, historyFor, searchSpace, smallFiniteSpace, validValue, violations } from './arbitraries.ts';

// A small Gaussian-process setting keeps the property runs fast; the defaults are exercised in gp-sampler.test.ts.
const quickGp = { candidates: 48, localStarts: 1, fitIterations: 8 };

// The contract every sampler keeps, run against each implementation; `runs` scales the property runs for the slower ones.
const samplers: Array<[string, () => Sampler, number]> = [
  ['random', () => new RandomSampler(), 1],
  ['tpe (defaults: multivariate)', () => new TpeSampler(), 1],
  ['tpe (univariate, as Optuna)', () => new TpeSampler({ multivariate: false }), 1],
  ['tpe (no startup)', () => new TpeSampler({ nStartupTrials: 0 }), 1],
  ['tpe (3 startup, 4 candidates)', () => new TpeSampler({ nStartupTrials: 3, nEiCandidates: 4 }), 1],
  ['gp (2 startup)', () => new GpSampler({ ...quickGp, nStartupTrials: 2 }), 0.25],
  ['auto', () => new AutoSampler({ gp: { ...quickGp, nStartupTrials: 3 }, tpe: { nStartupTrials: 3 } }), 0.25],
];

function propose(sampler: Sampler, space: SearchSpace, history: readonly Observation[], rng: RandomType, avoid?: ReadonlySet<string>, pending?: readonly ParamValues[]): ParamValues {
  return sampler.sample({ space, history, rng, ...(avoid ? { avoid } : {}), ...(pending ? { pending } : {}) }).params;
}

const spaceWithHistory = searchSpace.chain((space) => fc.tuple(fc.constant(space), historyFor(space)));

/** Conditional spaces with histories as a study writes them (active parameters only) or raw (inactive values too). */
const conditionalWithHistory = conditionalSpace.chain((space) =>
  fc.tuple(
    fc.constant(space),
    fc.tuple(historyFor(space), fc.boolean()).map(([history, clean]) => (clean ? history.map((observation) => ({ ...observation, params: activeOnly(space, observation.params) })) : history)),
  ),
);

describe.each(samplers)('sampler contract: %s', (_label, make, runs) => {
  const numRuns = (count: number) => Math.max(5, Math.round(count * runs));

  it('proposes exactly the declared parameters, each with the right type and inside its bounds', () => {
    fc.assert(
      fc.property(spaceWithHistory, fc.integer(), ([space, history], seed) => {
        const params = propose(make(), space, history, Random.fromSeed(seed));
        expect(violations(space, params)).toEqual([]);
      }),
      { numRuns: numRuns(150) },
    );
  });

  it('proposes exactly the active parameters of a conditional space, each valid', () => {
    fc.assert(
      fc.property(conditionalWithHistory, fc.integer(), ([space, history], seed) => {
        const params = propose(make(), space, history, Random.fromSeed(seed));
        expect(violations(space, params)).toEqual([]);
      }),
      { numRuns: numRuns(150) },
    );
  });

  it('keeps to the space with points pending on other slots', () => {
    fc.assert(
      fc.property(spaceWithHistory, fc.integer(), ([space, history], seed) => {
        const rng = Random.fromSeed(seed);
        const pending = [propose(make(), space, history, rng), propose(make(), space, history, rng)];
        const params = propose(make(), space, history, rng, undefined, pending);
        expect(violations(space, params)).toEqual([]);
      }),
      { numRuns: numRuns(60) },
    );
  });

  it('is deterministic: the same space, history and generator state give the same proposal', () => {
    fc.assert(
      fc.property(spaceWithHistory, fc.integer(), ([space, history], seed) => {
        const rng = Random.fromSeed(seed);
        const saved = rng.state();
        const first = make().sample({ space, history, rng });
        const second = make().sample({ space, history, rng: Random.fromState(saved) });
        expect(second).toEqual(first);
        // The generator advanced, and a fresh sampler instance changes nothing.
        expect(rng.state()).not.toEqual(saved);
      }),
      { numRuns: numRuns(60) },
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
        let proposed: ParamValues | undefined;
        let error: unknown;
        try {
          proposed = propose(make(), space, history, Random.fromSeed(seed), avoid);
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
      { numRuns: numRuns(200) },
    );
  });

  it('steps around an avoided proposal in a continuous space', () => {
    const space: SearchSpace = { lr: { type: 'float', low: 1e-5, high: 1e-1, log: true }, layers: { type: 'int', low: 1, high: 3 } };
    const history: Observation[] = Array.from({ length: 12 }, (_, i) => ({ params: { lr: 10 ** (-5 + (i % 4)), layers: 1 + (i % 3) }, loss: i }));
    const first = propose(make(), space, history, Random.fromSeed(3));
    const second = propose(make(), space, history, Random.fromSeed(3), new Set([paramsKey(first)]));
    expect(paramsKey(second)).not.toBe(paramsKey(first));
    expect(violations(space, second)).toEqual([]);
  });

  it('rejects an invalid space with a config error naming the dot path', () => {
    const space: SearchSpace = { lr: { type: 'float', low: 0, high: 1, log: true } };
    expect(() => propose(make(), space, [], Random.fromSeed(1))).toThrow(/research\.params\.lr\.low/);
  });

  it('accepts the empty space once and then reports it exhausted', () => {
    expect(propose(make(), {}, [], Random.fromSeed(1))).toEqual({});
    expect(() => propose(make(), {}, [], Random.fromSeed(1), new Set([paramsKey({})]))).toThrow(expect.objectContaining({ code: 'search_exhausted' }));
  });

  it('uses values valid for the space even when the history holds values outside it', () => {
    const space: SearchSpace = { depth: { type: 'int', low: 2, high: 4 } };
    fc.assert(
      fc.property(fc.array(validValue({ type: 'int', low: -50, high: 50 }), { minLength: 12, maxLength: 30 }), fc.integer(), (depths, seed) => {
        const history = depths.map((depth, i) => ({ params: { depth }, loss: i }));
        expect(violations(space, propose(make(), space, history, Random.fromSeed(seed)))).toEqual([]);
      }),
      { numRuns: numRuns(40) },
    );
  });
});
