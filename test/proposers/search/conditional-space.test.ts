import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/core/config/parse-config.ts';
import { ConfigError, StrataError } from '../../../src/core/errors.ts';
import { Random } from '../../../src/core/random.ts';
import { activationOrder, activeOnly, conditionIssues, isActive, paramsKey, type ParamValues, type SearchSpace } from '../../../src/core/search-space.ts';
import { conditionGroups } from '../../../src/proposers/search/condition-groups.ts';
import { drawRandomParams } from '../../../src/proposers/search/random-draw.ts';
import { validateSearchSpace } from '../../../src/proposers/search/sampler.ts';
import { finiteSpaceSize, proposeUnique } from '../../../src/proposers/search/unique-proposal.ts';
import { conditionalSpace, expectedActive } from './arbitraries.ts';

const optimizerSpace: SearchSpace = {
  momentum: { type: 'float', low: 0.5, high: 0.99, when: { optimizer: 'sgd' } },
  optimizer: { type: 'choice', values: ['sgd', 'adam', 'rmsprop'] },
  lr: { type: 'float', low: 1e-5, high: 1, log: true },
  beta2: { type: 'float', low: 0.9, high: 0.9999, when: { optimizer: ['adam', 'rmsprop'] } },
  nesterov: { type: 'choice', values: [true, false], when: { optimizer: 'sgd', momentum_on: true } },
  momentum_on: { type: 'choice', values: [true, false], when: { optimizer: 'sgd' } },
};

describe('conditional parameters', () => {
  it('orders parents before children, ties by name', () => {
    expect(activationOrder(optimizerSpace)).toEqual(['lr', 'optimizer', 'beta2', 'momentum', 'momentum_on', 'nesterov']);
  });

  it('is active only while every parent holds an allowed value', () => {
    expect(isActive(optimizerSpace, 'momentum', { optimizer: 'sgd' })).toBe(true);
    expect(isActive(optimizerSpace, 'momentum', { optimizer: 'adam' })).toBe(false);
    expect(isActive(optimizerSpace, 'beta2', { optimizer: 'rmsprop' })).toBe(true);
    expect(isActive(optimizerSpace, 'nesterov', { optimizer: 'sgd', momentum_on: false })).toBe(false);
    expect(isActive(optimizerSpace, 'nesterov', { optimizer: 'sgd' })).toBe(false);
    expect(activeOnly(optimizerSpace, { lr: 0.1, optimizer: 'adam', momentum: 0.9, beta2: 0.99, nesterov: true })).toEqual({ lr: 0.1, optimizer: 'adam', beta2: 0.99 });
  });

  it('draws only the active parameters, whatever the space', () => {
    fc.assert(
      fc.property(conditionalSpace, fc.integer(), (space, seed) => {
        const params = drawRandomParams(space, Random.fromSeed(seed));
        expect(Object.keys(params).sort()).toEqual(expectedActive(space, params));
        expect(activeOnly(space, params)).toEqual(params);
      }),
      { numRuns: 200 },
    );
  });

  it('reaches every branch', () => {
    const rng = Random.fromSeed(4);
    const shapes = new Set(Array.from({ length: 200 }, () => Object.keys(drawRandomParams(optimizerSpace, rng)).sort().join(',')));
    expect([...shapes].sort()).toEqual(['beta2,lr,optimizer', 'lr,momentum,momentum_on,nesterov,optimizer', 'lr,momentum,momentum_on,optimizer']);
  });

  it('groups parameters that are active together, parents first', () => {
    expect(conditionGroups(optimizerSpace)).toEqual([['lr', 'optimizer'], ['beta2'], ['momentum', 'momentum_on'], ['nesterov']]);
    // The same condition written with a one-value list is the same group.
    expect(conditionGroups({ a: { type: 'choice', values: [1, 2] }, b: { type: 'int', low: 0, high: 3, when: { a: 1 } }, c: { type: 'int', low: 0, high: 3, when: { a: [1] } } })).toEqual([['a'], ['b', 'c']]);
  });

  it('counts the distinct parameter sets of a finite conditional space and exhausts it exactly', () => {
    const space: SearchSpace = { opt: { type: 'choice', values: ['sgd', 'adam'] }, steps: { type: 'int', low: 1, high: 3, when: { opt: 'sgd' } } };
    expect(finiteSpaceSize(space)).toBe(4);
    const all: ParamValues[] = [{ opt: 'adam' }, { opt: 'sgd', steps: 1 }, { opt: 'sgd', steps: 2 }, { opt: 'sgd', steps: 3 }];
    for (let seed = 0; seed < 10; seed++) {
      const avoid = new Set(all.filter((_, i) => i !== seed % 4).map(paramsKey));
      expect(proposeUnique(space, avoid, Random.fromSeed(seed), () => ({ opt: 'adam' }))).toEqual(all[seed % 4]);
    }
    expect(() => proposeUnique(space, new Set(all.map(paramsKey)), Random.fromSeed(1), () => ({ opt: 'adam' }))).toThrow(
      expect.objectContaining({ code: 'search_exhausted', message: expect.stringMatching(/all 4 parameter sets/) }) as StrataError,
    );
  });
});

describe('invalid when clauses', () => {
  it('names every problem at its dot path', () => {
    const space = {
      lr: { type: 'float', low: 1e-4, high: 1, when: { lr: 0.1 } },
      optimizer: { type: 'choice', values: ['sgd', 'adam'] },
      momentum: { type: 'float', low: 0, high: 1, when: { optimiser: 'sgd' } },
      nesterov: { type: 'choice', values: [true, false], when: { optimizer: ['sgd', 'lion'] } },
      beta: { type: 'float', low: 0, high: 1, when: { optimizer: 'adamw', lr: 0.1 } },
      layers: { type: 'int', low: 1, high: 4 },
      width: { type: 'int', low: 8, high: 64, when: { layers: [2, 9] } },
    } as unknown as SearchSpace;
    expect(conditionIssues(space)).toEqual([
      { path: 'research.params.beta.when.optimizer', message: '"adamw" is not a value of optimizer; use one of "sgd", "adam"' },
      { path: 'research.params.beta.when.lr', message: 'lr is a float, and a condition needs values to compare exactly; make lr a choice or an int' },
      { path: 'research.params.lr.when.lr', message: 'lr cannot depend on itself; name another parameter' },
      { path: 'research.params.momentum.when.optimiser', message: 'optimiser is not a parameter; declare it under research.params or use one of beta, layers, lr, nesterov, optimizer, width' },
      { path: 'research.params.nesterov.when.optimizer.1', message: '"lion" is not a value of optimizer; use one of "sgd", "adam"' },
      { path: 'research.params.width.when.layers.1', message: '9 is not a value of layers; use an integer in [1, 4]' },
    ]);
  });

  it('rejects a cycle of conditions', () => {
    const space: SearchSpace = {
      a: { type: 'choice', values: [1, 2], when: { b: 1 } },
      b: { type: 'choice', values: [1, 2], when: { a: 1 } },
    };
    expect(conditionIssues(space)).toEqual([{ path: 'research.params.a.when', message: 'the conditions form a cycle (a -> b -> a); a parameter cannot depend on itself through others' }]);
    expect(validateSearchSpace(space).map((issue) => issue.path)).toEqual(['research.params.a.when']);
  });

  it('reports them from the config file with the other problems, at once', () => {
    const text = `name: t
research:
  editable: [train.py]
  run: python train.py
  budget: 5m
  metric: {name: loss, goal: minimize}
  params:
    optimizer: {type: choice, values: [sgd, adam]}
    momentum: {type: float, low: 0.5, high: 0.99, when: {optimizer: sgdd}}
    beta1: {type: float, low: 0.5, high: 0.99, when: {optimiser: adam}}
    dropout: {type: float, low: 0.9, high: 0.1}
`;
    let caught: unknown;
    try {
      parseConfig(text);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).issues.map((issue) => issue.path).sort()).toEqual([
      'research.params.beta1.when.optimiser',
      'research.params.dropout.low',
      'research.params.momentum.when.optimizer',
    ]);
  });

  it('accepts the issue’s example and keeps the condition', () => {
    const config = parseConfig(`name: t
research:
  editable: [train.py]
  run: python train.py
  budget: 5m
  metric: {name: loss, goal: minimize}
  params:
    optimizer: {type: choice, values: [sgd, adam]}
    momentum: {type: float, low: 0.5, high: 0.99, when: {optimizer: sgd}}
  search: {sampler: auto, warm_start: results.tsv}
`);
    expect(config.research!.params.momentum).toEqual({ type: 'float', low: 0.5, high: 0.99, when: { optimizer: 'sgd' } });
    expect(config.research!.search).toEqual({ sampler: 'auto', warmStart: 'results.tsv' });
  });
});
