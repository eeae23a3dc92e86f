import { describe, expect, it } from 'vitest';
import { Random } from '../../src/core/random.ts';
import { CandidatePool } from '../../src/evolve/candidate-pool.ts';
import { candidateHash } from '../../src/evolve/content-hash.ts';
import { initialSnapshot } from '../../src/evolve/engine-snapshot.ts';
import type { CachedEvaluation } from '../../src/evolve/evaluation-cache.ts';
import { combine, findMerge, hasOneSidedChange, stratifiedSubsample } from '../../src/evolve/merge-step.ts';
import type { Candidate } from '../../src/evolve/types.ts';

const val = (scores: number[]): CachedEvaluation[] => scores.map((score, i) => ({ split: 'val', exampleId: `v${i}`, iteration: 0, failed: false, score }));

function poolOf(entries: { components: Candidate; parents: number[]; scores: number[] }[]): CandidatePool {
  const pool = new CandidatePool('instance');
  for (const entry of entries) {
    pool.add({ components: entry.components, parents: entry.parents, origin: entry.parents.length ? 'reflective' : 'seed', hash: candidateHash(entry.components), iteration: 0, foundAtMetricCalls: 0, description: '' }, val(entry.scores));
  }
  return pool;
}

describe('merge', () => {
  // 0 = seed; 1 and 2 each changed a different component of 0; 3 descends from 1.
  const seed = { a: 'A0', b: 'B0' };
  const entries = [
    { components: seed, parents: [], scores: [0, 0, 0, 0] },
    { components: { a: 'A1', b: 'B0' }, parents: [0], scores: [1, 1, 0, 0] },
    { components: { a: 'A0', b: 'B2' }, parents: [0], scores: [0, 0, 1, 1] },
    { components: { a: 'A3', b: 'B0' }, parents: [1], scores: [1, 1, 0, 0.5] },
  ];

  it('takes the changed side of each component; both changed → the better mean', () => {
    const rng = Random.fromSeed(0);
    expect(combine(seed, { a: 'A1', b: 'B0' }, { a: 'A0', b: 'B2' }, 0.5, 0.5, rng)).toEqual({ a: 'A1', b: 'B2' });
    expect(combine(seed, { a: 'A1', b: 'B0' }, { a: 'A2', b: 'B0' }, 0.4, 0.6, rng)).toEqual({ a: 'A2', b: 'B0' });
  });

  it('needs a component that differs and equals the ancestor on exactly one side', () => {
    expect(hasOneSidedChange(seed, { a: 'A1', b: 'B0' }, { a: 'A0', b: 'B2' })).toBe(true);
    expect(hasOneSidedChange(seed, { a: 'A1', b: 'B0' }, { a: 'A1', b: 'B0' })).toBe(false);
    expect(hasOneSidedChange(seed, { a: 'A1', b: 'B1' }, { a: 'A2', b: 'B2' })).toBe(false);
  });

  it('never pairs an ancestor with its descendant, and needs an ancestor no better than either', () => {
    const pool = poolOf(entries);
    const state = initialSnapshot(0).merge;
    const rng = Random.fromSeed(9);
    for (let i = 0; i < 20; i++) {
      const plan = findMerge(pool, state, rng);
      if (!plan) continue;
      expect(pool.ancestors(plan.j).has(plan.i) || pool.ancestors(plan.i).has(plan.j)).toBe(false);
      const means = pool.means();
      expect(means[plan.ancestor]!).toBeLessThanOrEqual(Math.min(means[plan.i]!, means[plan.j]!));
    }
    expect(state.tried.length).toBeGreaterThan(0);
    // Each (pair, ancestor) is tried once: the supply runs out.
    expect(findMerge(pool, state, rng)).toBeNull();
  });

  it('finds nothing when the common ancestor scores above a side', () => {
    const pool = poolOf([
      { components: seed, parents: [], scores: [1, 1, 1, 1] },
      { components: { a: 'A1', b: 'B0' }, parents: [0], scores: [1, 1, 1, 0] },
      { components: { a: 'A0', b: 'B2' }, parents: [0], scores: [0, 1, 1, 1] },
    ]);
    expect(findMerge(pool, initialSnapshot(0).merge, Random.fromSeed(1))).toBeNull();
  });

  it('draws the subsample from both sides and the ties', () => {
    const picked = stratifiedSubsample(['v0', 'v1', 'v2', 'v3', 'v4', 'v5'], { v0: 1, v1: 1, v2: 0, v3: 0, v4: 1, v5: 1 }, { v0: 0, v1: 0, v2: 1, v3: 1, v4: 1, v5: 1 }, 3, Random.fromSeed(2));
    expect(picked).toHaveLength(3);
    expect(picked.filter((id) => ['v0', 'v1'].includes(id))).toHaveLength(1);
    expect(picked.filter((id) => ['v2', 'v3'].includes(id))).toHaveLength(1);
  });
});
