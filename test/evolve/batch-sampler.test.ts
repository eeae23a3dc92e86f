import { describe, expect, it } from 'vitest';
import { BatchSampler } from '../../src/evolve/batch-sampler.ts';

const ids = (n: number) => Array.from({ length: n }, (_, i) => `e${i}`);

describe('epoch-shuffled batch sampler', () => {
  it('shows every example once per epoch when the size divides evenly', () => {
    const sampler = BatchSampler.create(1);
    const seen = [0, 1, 2, 3].flatMap(() => sampler.next(ids(12), 3));
    expect(new Set(seen).size).toBe(12);
    expect(sampler.state().epoch).toBe(0);
    sampler.next(ids(12), 3);
    expect(sampler.state().epoch).toBe(1);
  });

  it('pads the last batch with the least-used ids, never duplicating within a batch', () => {
    const sampler = BatchSampler.create(2);
    const batches = Array.from({ length: 4 }, () => sampler.next(ids(10), 3));
    for (const batch of batches) expect(new Set(batch).size).toBe(3);
    expect(new Set(batches.flat()).size).toBe(10);
    // Over many epochs usage stays within one of even.
    for (let i = 0; i < 40; i++) sampler.next(ids(10), 3);
    const usage = Object.values(sampler.state().usage);
    expect(Math.max(...usage) - Math.min(...usage)).toBeLessThanOrEqual(2);
  });

  it('gives distinct minibatches for repeated calls, and refreshes when the dataset grows', () => {
    const sampler = BatchSampler.create(3);
    const a = sampler.next(ids(9), 3);
    const b = sampler.next(ids(9), 3);
    expect(a.some((id) => b.includes(id))).toBe(false);
    const grown = sampler.next(ids(12), 3);
    expect(sampler.state().order).toHaveLength(12);
    expect(sampler.state().position).toBe(1);
    expect(grown).toEqual(sampler.state().order.slice(0, 3));
  });

  it('resumes from its state with the same future', () => {
    const a = BatchSampler.create(4);
    a.next(ids(7), 3);
    const saved = a.state();
    const b = BatchSampler.fromState(saved);
    const future = (s: BatchSampler) => Array.from({ length: 6 }, () => s.next(ids(7), 3));
    expect(future(b)).toEqual(future(a));
  });

  it('clamps the batch to the dataset size', () => {
    expect(BatchSampler.create(5).next(['only', 'two'], 3).sort()).toEqual(['only', 'two']);
  });
});
