import { describe, expect, it } from 'vitest';
import { Random } from '../../src/core/random.ts';
import { computeFronts, type ScoredCandidate } from '../../src/evolve/pareto-front.ts';
import { paretoPick, paretoSurvivors, selectParent } from '../../src/evolve/parent-selectors.ts';

const front = (key: string, holders: number[]) => ({ key, best: 1, holders });

describe('Pareto parent selection', () => {
  it('prunes 0 on fronts {v0: {0,1}, v1: {1}} with means [0.3, 0.6] and always picks 1', () => {
    const fronts = [front('v0', [0, 1]), front('v1', [1])];
    expect(paretoSurvivors(fronts, [0.3, 0.6])).toEqual([1]);
    const rng = Random.fromSeed(3);
    for (let i = 0; i < 200; i++) expect(paretoPick(fronts, [0.3, 0.6], rng)).toBe(1);
  });

  it('keeps a candidate that alone holds a front, even with a low mean', () => {
    const fronts = [front('v0', [0]), front('v1', [1, 2]), front('v2', [2])];
    expect(paretoSurvivors(fronts, [0.1, 0.5, 0.9])).toEqual([0, 2]);
  });

  it('restarts the scan after each removal (two mutually covering candidates keep one)', () => {
    const fronts = [front('v0', [0, 1]), front('v1', [0, 1])];
    expect(paretoSurvivors(fronts, [0.5, 0.5])).toEqual([1]);
  });

  it('weights survivors by the number of fronts they hold', () => {
    const fronts = [front('v0', [0]), front('v1', [1]), front('v2', [1]), front('v3', [1])];
    const rng = Random.fromSeed(11);
    const counts = [0, 0];
    for (let i = 0; i < 4000; i++) counts[paretoPick(fronts, [0.25, 0.75], rng)]! += 1;
    expect(counts[1]! / 4000).toBeCloseTo(0.75, 1);
  });

  it('current-best, epsilon-greedy and top-k behave as named', () => {
    const pool: ScoredCandidate[] = [
      { idx: 0, scores: new Map([['a', 1], ['b', 0]]), objectives: new Map() },
      { idx: 1, scores: new Map([['a', 0], ['b', 0.5]]), objectives: new Map() },
      { idx: 2, scores: new Map([['a', 0.9], ['b', 0.9]]), objectives: new Map() },
    ];
    const fronts = computeFronts(pool, 'instance');
    const means = [0.5, 0.25, 0.9];
    const input = { pool, frontier: 'instance' as const, fronts, means, epsilon: 0, topK: 2 };
    const rng = Random.fromSeed(1);
    expect(selectParent('current-best', input, rng)).toBe(2);
    expect(selectParent('epsilon-greedy', input, rng)).toBe(2);
    // Among the top 2 (#2, #0): #0 holds key a (1 > 0.9), #2 holds key b.
    const picks = new Set(Array.from({ length: 100 }, () => selectParent('top-k-pareto', input, rng)));
    expect(picks).toEqual(new Set([0, 2]));
  });
});

describe('fronts', () => {
  const pool: ScoredCandidate[] = [
    { idx: 0, scores: new Map([['a', 1], ['b', 0]]), objectives: new Map([['a', { f: 1, g: 0 }], ['b', { f: 0, g: 1 }]]) },
    { idx: 1, scores: new Map([['a', 1], ['b', 1]]), objectives: new Map([['a', { f: 0, g: 1 }], ['b', { f: 0, g: 0 }]]) },
  ];

  it('instance: ties join the holders, a higher score replaces them', () => {
    expect(computeFronts(pool, 'instance')).toEqual([
      { key: 'i:a', best: 1, holders: [0, 1] },
      { key: 'i:b', best: 1, holders: [1] },
    ]);
  });

  it('objective, hybrid and cartesian keys', () => {
    expect(computeFronts(pool, 'objective')).toEqual([
      { key: 'o:f', best: 0.5, holders: [0] },
      { key: 'o:g', best: 0.5, holders: [0, 1] },
    ]);
    expect(computeFronts(pool, 'hybrid').map((f) => f.key)).toEqual(['i:a', 'i:b', 'o:f', 'o:g']);
    expect(computeFronts(pool, 'cartesian').map((f) => `${f.key}=${f.holders.join('+')}`)).toEqual(['c:a:f=0', 'c:a:g=1', 'c:b:f=0+1', 'c:b:g=0']);
  });
});
