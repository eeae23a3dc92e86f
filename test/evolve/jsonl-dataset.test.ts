import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadJsonl } from '../../src/evolve/evaluators/jsonl-dataset.ts';

describe('loadJsonl', () => {
  it('reads a dataset that starts with a UTF-8 byte order mark (it was "line 1: not JSON")', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'strata-jsonl-')), 'train.jsonl');
    writeFileSync(file, '\uFEFF{"input": "first", "answer": "a"}\r\n{"input": "second", "answer": "b"}\r\n');
    expect(loadJsonl(file, 'evolve.data.train')).toEqual([
      { input: 'first', answer: 'a' },
      { input: 'second', answer: 'b' },
    ]);
  });

  it('still refuses a byte order mark anywhere but the start', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'strata-jsonl-')), 'train.jsonl');
    writeFileSync(file, '{"input": "first"}\n\uFEFF{"input": "second"}\n');
    expect(() => loadJsonl(file, 'evolve.data.train')).toThrow(/line 2: not JSON/);
  });
});
