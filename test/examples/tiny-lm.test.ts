import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { evaluateBpb, HarnessError, loadDataset } from '../../examples/tiny-lm/prepare.ts';

const EXAMPLE = fileURLToPath(new URL('../../examples/tiny-lm/', import.meta.url));

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs train.ts in `directory` with the same Node as the tests (22+, for type stripping). */
function train(directory: string, env: Record<string, string>): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['train.ts'], { cwd: directory, env: { ...process.env, ...env }, timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

function valBpbLines(stdout: string): string[] {
  return stdout.split('\n').filter((line) => /^val_bpb:/.test(line));
}

describe('examples/tiny-lm train.ts', () => {
  let directory: string;

  beforeEach(() => {
    // A temp copy, as a trial worktree would be; a params file left in the example must not leak in.
    directory = mkdtempSync(join(tmpdir(), 'tiny-lm-test-'));
    cpSync(EXAMPLE, directory, { recursive: true, filter: (source) => basename(source) !== 'strata.params.json' });
  });

  afterEach(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  it('trains for TRAIN_SECONDS and prints one finite val_bpb between 0 and 8', async () => {
    const outcome = await train(directory, { TRAIN_SECONDS: '1', STRATA_SEED: '3' });

    expect(outcome.code, outcome.stderr).toBe(0);
    const lines = valBpbLines(outcome.stdout);
    expect(lines).toHaveLength(1);
    const bpb = Number(/^val_bpb:\s*(\S+)/.exec(lines[0] ?? '')?.[1]);
    expect(Number.isFinite(bpb)).toBe(true);
    expect(bpb).toBeGreaterThan(0);
    expect(bpb).toBeLessThan(8);
    expect(outcome.stdout).toMatch(/^METRIC train_seconds=\d+(\.\d+)?$/m);
    expect(outcome.stdout).toMatch(/seed=3\b/);
  }, 40_000);

  it('honours the values in strata.params.json', async () => {
    writeFileSync(join(directory, 'strata.params.json'), JSON.stringify({ lr: 0.002, hidden: 20, context: 4, embed: 6 }));

    const outcome = await train(directory, { TRAIN_SECONDS: '0.5' });

    expect(outcome.code, outcome.stderr).toBe(0);
    expect(outcome.stdout).toMatch(/^config: lr=0\.002 hidden=20 context=4 embed=6 /m);
    expect(valBpbLines(outcome.stdout)).toHaveLength(1);
  }, 40_000);

  it('rejects an invalid or unknown parameter with a message naming it, before training', async () => {
    writeFileSync(join(directory, 'strata.params.json'), JSON.stringify({ hidden: 12.5, learning_rate: 0.01 }));

    const outcome = await train(directory, { TRAIN_SECONDS: '0.5' });

    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toContain('"hidden" must be an integer from 1 to 2048, got 12.5');
    expect(outcome.stderr).toContain('unknown key "learning_rate"');
    expect(valBpbLines(outcome.stdout)).toHaveLength(0);
  }, 40_000);
});

describe('examples/tiny-lm prepare.ts', () => {
  it('scores a uniform predictor at log2(vocabulary size) bits per byte', () => {
    const { vocabSize } = loadDataset();
    const uniform = { contextLength: 4, predict: (_: Uint8Array, count: number, out: Float32Array) => out.fill(1 / vocabSize, 0, count * vocabSize) };

    expect(evaluateBpb(uniform, 'val')).toBeCloseTo(Math.log2(vocabSize), 5);
    expect(evaluateBpb(uniform, 'test')).toBeCloseTo(Math.log2(vocabSize), 5);
  });

  it('rejects rows that are not probability distributions', () => {
    const { vocabSize } = loadDataset();
    const ones = { contextLength: 4, predict: (_: Uint8Array, count: number, out: Float32Array) => out.fill(1, 0, count * vocabSize) };

    expect(() => evaluateBpb(ones, 'val')).toThrow(HarnessError);
  });
});
