import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/core/errors.ts';
import type { SearchSpace } from '../../../src/core/search-space.ts';
import { assertValidSearchSpace, validateSearchSpace } from '../../../src/proposers/search/sampler.ts';
import { searchSpace } from './arbitraries.ts';

describe('validateSearchSpace', () => {
  it('accepts every well-formed space', () => {
    fc.assert(
      fc.property(searchSpace, (space) => {
        expect(validateSearchSpace(space)).toEqual([]);
      }),
    );
  });

  it('reports each problem at its dot path with a message that names the fix', () => {
    const space = {
      lr: { type: 'float', low: 0, high: 0.1, log: true },
      dropout: { type: 'float', low: 0.5, high: 0.5 },
      layers: { type: 'int', low: 1.5, high: 8 },
      heads: { type: 'int', low: 8, high: 2 },
      act: { type: 'choice', values: [] },
      norm: { type: 'choice', values: ['layer', 'rms', 'layer'] },
      warmup: { type: 'float', low: Number.NaN, high: 1 },
      width: { type: 'int', low: -4, high: 64, log: true },
      schedule: { type: 'cosine' },
    } as unknown as SearchSpace;
    expect(validateSearchSpace(space)).toEqual([
      { path: 'research.params.lr.low', message: 'a log-scaled dimension needs low > 0, got 0; raise low or set log: false' },
      { path: 'research.params.dropout.low', message: 'low must be below high, got low 0.5 >= high 0.5; to fix a value, use a choice with one value' },
      { path: 'research.params.layers.low', message: 'an int dimension needs integer bounds, got 1.5; use 2 or make it a float' },
      { path: 'research.params.heads.low', message: 'low must be below high, got low 8 >= high 2; to fix a value, use a choice with one value' },
      { path: 'research.params.act.values', message: 'a choice needs at least one value; list them, e.g. values: [32, 64, 128]' },
      { path: 'research.params.norm.values.2', message: 'duplicate choice value "layer"; list each value once' },
      { path: 'research.params.warmup.low', message: 'expected a finite number, got null' },
      { path: 'research.params.width.low', message: 'a log-scaled dimension needs low > 0, got -4; raise low or set log: false' },
      { path: 'research.params.schedule.type', message: 'unknown parameter type "cosine"; use float, int or choice' },
    ]);
  });

  it('uses the caller’s base path', () => {
    const issues = validateSearchSpace({ x: { type: 'int', low: 3, high: 3 } }, 'studies.0.params');
    expect(issues.map((issue) => issue.path)).toEqual(['studies.0.params.x.low']);
  });

  it('throws one ConfigError listing every problem', () => {
    const space = { a: { type: 'float', low: 2, high: 1 }, b: { type: 'choice', values: [] } } as unknown as SearchSpace;
    expect(() => assertValidSearchSpace(space)).toThrow(ConfigError);
    expect(() => assertValidSearchSpace(space)).toThrow(/2 problems[\s\S]*research\.params\.a\.low[\s\S]*research\.params\.b\.values/);
  });
});
