import { describe, expect, it } from 'vitest';
import { Ledger } from '../../src/ledger/ledger.ts';
import { checkLedger } from '../../src/ledger/ledger-check.ts';
import { EvaluationCache } from '../../src/evolve/evaluation-cache.ts';

function study(ledger: Ledger): number {
  ledger.record('study.created', { studyId: 1, name: 'cache', kind: 'evolve', config: {}, configHash: 'h', branch: null, baseCommit: null }, { studyId: 1 });
  return 1;
}

describe('evaluation cache', () => {
  it('keeps splits and evaluator versions apart, and keeps traces', () => {
    const ledger = Ledger.open(':memory:');
    const id = study(ledger);
    const cache = EvaluationCache.load(ledger, id, 'v1');
    cache.record('abc', { split: 'train', exampleId: 'x', iteration: 1, failed: false, score: 1, trace: { output: 'yes' } });
    expect(cache.get('abc', 'train', 'x')).toMatchObject({ score: 1, trace: { output: 'yes' } });
    expect(cache.get('abc', 'val', 'x')).toBeUndefined();
    expect(EvaluationCache.load(ledger, id, 'v2').get('abc', 'train', 'x')).toBeUndefined();
    expect(EvaluationCache.load(ledger, id, 'v1').get('abc', 'train', 'x')).toMatchObject({ score: 1, trace: { output: 'yes' } });
  });

  it('counts metric calls per iteration and leaves the test split out', () => {
    const ledger = Ledger.open(':memory:');
    const cache = EvaluationCache.load(ledger, study(ledger), '');
    cache.record('h', { split: 'val', exampleId: 'a', iteration: 0, failed: false, score: 0 });
    cache.record('h', { split: 'train', exampleId: 'a', iteration: 1, failed: false, score: 0 });
    cache.record('h', { split: 'test', exampleId: 'a', iteration: -1, failed: false, score: 0 });
    expect(cache.metricCalls()).toBe(2);
    expect(cache.metricCallsBefore(1)).toBe(1);
    expect(cache.cachedBefore('h', 'train', 'a', 1)).toBe(false);
    expect(cache.cachedBefore('h', 'train', 'a', 2)).toBe(true);
  });

  it('is rebuilt from events alone', () => {
    const ledger = Ledger.open(':memory:');
    const cache = EvaluationCache.load(ledger, study(ledger), '');
    cache.record('h', { split: 'val', exampleId: 'a', iteration: 0, failed: true, score: 0, feedback: 'evaluation failed: boom', objectives: { f: 1 } });
    expect(checkLedger(ledger)).toMatchObject({ ok: true, rows: { evaluations: 1 } });
  });
});
