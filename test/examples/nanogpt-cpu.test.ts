import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { parseConfig } from '../../src/core/config/parse-config.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { runResearch } from '../../src/research/run-research.ts';
import { LoopbackModelServer } from '../helpers/loopback-model.ts';
import { makeRepo } from '../helpers/study-repo.ts';

/**
 * The Python example, run for real: train.py and evaluate.py with the
 * Debian PyTorch (`/usr/bin/python3`, packages python3-torch python3-numpy
 * libopenblas0-pthread), then a short study through the CLI. Without torch
 * the tests are skipped locally with the reason in their title; in CI
 * (CI=true) a missing torch fails, because .ci/run installs it.
 */
const EXAMPLE = fileURLToPath(new URL('../../examples/nanogpt-cpu/', import.meta.url));
const PYTHON = process.env.STRATA_TEST_PYTHON ?? '/usr/bin/python3';
const BIN = resolve(import.meta.dirname, '../../bin/strata.js');

function probeTorch(): string | null {
  const probe = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8', timeout: 120_000 });
  if (probe.error) return `${PYTHON} is not there (${probe.error.message})`;
  if (probe.status !== 0) return `${PYTHON} cannot import torch (${probe.stderr.trim().split('\n').at(-1) ?? ''})`;
  return null;
}
const missing = probeTorch();
const INSTALL = 'apt-get install -y python3-torch python3-numpy libopenblas0-pthread';

if (missing && process.env.CI === 'true') {
  it('has PyTorch for the nanogpt-cpu example in CI', () => {
    throw new Error(`${missing}: .ci/run must install it (${INSTALL})`);
  });
}

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

function python(directory: string, args: string[], env: Record<string, string> = {}): Outcome {
  const result = spawnSync(PYTHON, args, { cwd: directory, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const summaryValue = (stdout: string, name: string): string | undefined => new RegExp(`^${name}:\\s+(\\S+)$`, 'm').exec(stdout)?.[1];

const scratch: string[] = [];
afterAll(() => {
  for (const directory of scratch) rmSync(directory, { recursive: true, force: true });
});

/** A copy of the example as a trial worktree would hold it (without checkpoints or a params file left by hand). */
function copyExample(): string {
  const directory = mkdtempSync(join(tmpdir(), 'nanogpt-cpu-test-'));
  scratch.push(directory);
  cpSync(EXAMPLE, directory, { recursive: true, filter: (source) => !['artifacts', '__pycache__', 'strata.params.json'].includes(basename(source)) });
  return directory;
}

/** The example as it sits in a repository (examples/nanogpt-cpu/), with strata.yaml shortened: 2 s of training, /usr/bin/python3. */
function exampleRepo(change: (research: Record<string, unknown>, config: Record<string, unknown>) => void): string {
  const files: Record<string, string> = {};
  const walk = (directory: string) => {
    for (const name of readdirSync(directory)) {
      const path = join(directory, name);
      if (['artifacts', '__pycache__', 'strata.params.json'].includes(name)) continue;
      if (statSync(path).isDirectory()) walk(path);
      else files[`examples/nanogpt-cpu/${relative(EXAMPLE, path)}`] = readFileSync(path, 'utf8');
    }
  };
  walk(EXAMPLE);
  const config = parseYaml(files['examples/nanogpt-cpu/strata.yaml']!) as { research: Record<string, unknown> };
  config.research.env = { ...(config.research.env as object), TRAIN_SECONDS: '2', PYTHON };
  change(config.research, config);
  files['examples/nanogpt-cpu/strata.yaml'] = stringifyYaml(config);
  const repo = makeRepo(files, { prefix: 'nanogpt-study-' });
  scratch.push(repo);
  return repo;
}

describe.skipIf(missing !== null)(`examples/nanogpt-cpu${missing ? ` — skipped: ${missing}; install with ${INSTALL}` : ''}`, () => {
  it('train.py prints the autoresearch summary and saves a checkpoint that evaluate.py scores to the same val_bpb', () => {
    const directory = copyExample();
    const artifacts = join(directory, 'out');
    const trained = python(directory, ['train.py'], { TRAIN_SECONDS: '1.5', STRATA_SEED: '1', STRATA_ARTIFACTS: artifacts });
    expect(trained.code, trained.stderr).toBe(0);
    expect(trained.stdout).toMatch(/^config: .* seed=1 device=(cpu|cuda) threads=1$/m);
    expect(trained.stdout.match(/^val_bpb:/gm)).toHaveLength(1);
    const bpb = Number(summaryValue(trained.stdout, 'val_bpb'));
    expect(bpb).toBeGreaterThan(0);
    expect(bpb).toBeLessThan(8);
    expect(Number(summaryValue(trained.stdout, 'peak_vram_mb'))).toBeGreaterThan(0);
    expect(readdirSync(artifacts).sort()).toEqual(['meta.json', 'model.pt']);

    const evaluated = python(directory, ['evaluate.py'], { STRATA_ARTIFACTS: artifacts });
    expect(evaluated.code, evaluated.stderr).toBe(0);
    expect(summaryValue(evaluated.stdout, 'split')).toBe('val');
    expect(Number(summaryValue(evaluated.stdout, 'val_bpb'))).toBeCloseTo(bpb, 4);
    expect(summaryValue(evaluated.stdout, 'peak_vram_mb')).toBe(summaryValue(trained.stdout, 'peak_vram_mb'));

    const holdout = python(directory, ['evaluate.py', '--split', 'test'], { STRATA_ARTIFACTS: artifacts });
    expect(holdout.code, holdout.stderr).toBe(0);
    expect(summaryValue(holdout.stdout, 'split')).toBe('test');
    expect(Number(summaryValue(holdout.stdout, 'val_bpb'))).not.toBeCloseTo(bpb, 4);
  }, 120_000);

  it('takes settings from strata.params.json and stops before training on an unknown or out-of-range key', () => {
    const directory = copyExample();
    writeFileSync(join(directory, 'strata.params.json'), JSON.stringify({ learning_rate: 0.002, n_embd: 48, n_head: 4, block_size: 16 }));
    const ok = python(directory, ['train.py'], { TRAIN_SECONDS: '0.5', STRATA_ARTIFACTS: join(directory, 'out') });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^config: n_layer=2 n_head=4 n_embd=48 block_size=16 batch_size=16 learning_rate=0.002 /m);

    writeFileSync(join(directory, 'strata.params.json'), JSON.stringify({ lr: 0.01, block_size: 1000 }));
    const bad = python(directory, ['train.py'], { TRAIN_SECONDS: '0.5' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown key "lr"');
    expect(bad.stderr).toContain('"block_size" must be an integer from 2 to 256, got 1000');
    expect(bad.stdout).not.toMatch(/^val_bpb:/m);
  }, 120_000);

  it('evaluate.py refuses a model that peeks at later characters, and a missing checkpoint', () => {
    const directory = copyExample();
    const artifacts = join(directory, 'out');
    // A TorchScript model that "predicts" each next character by reading it: it would score ~0 bpb.
    const cheat = python(directory, [
      '-c',
      [
        'import json, os, sys, torch',
        'from prepare import VOCAB_SIZE, VOCAB_SHA',
        'class Peek(torch.nn.Module):',
        '    def forward(self, idx):',
        '        return torch.nn.functional.one_hot(torch.roll(idx, -1, dims=1), VOCAB_SIZE).float() * 30.0',
        'os.makedirs(sys.argv[1], exist_ok=True)',
        'torch.jit.trace(Peek(), torch.zeros(1, 32, dtype=torch.long)).save(os.path.join(sys.argv[1], "model.pt"))',
        'json.dump({"block_size": 32, "vocab_size": VOCAB_SIZE, "vocab_sha": VOCAB_SHA}, open(os.path.join(sys.argv[1], "meta.json"), "w"))',
      ].join('\n'),
      artifacts,
    ]);
    expect(cheat.code, cheat.stderr).toBe(0);
    const refused = python(directory, ['evaluate.py'], { STRATA_ARTIFACTS: artifacts });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('error: the model is not causal: its predictions depend on later characters');
    expect(refused.stdout).not.toMatch(/^val_bpb:/m);

    const none = python(directory, ['evaluate.py'], { STRATA_ARTIFACTS: join(directory, 'empty') });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no checkpoint in');
  }, 120_000);

  it('runs a short study with the search proposer: metric from evaluate.py, holdout on the best, peak_vram_mb recorded', () => {
    const repo = exampleRepo((research) => {
      research.max_trials = 3;
      research.acceptance = { baseline_repeats: 2, confirm_repeats: 1 };
      research.search = { sampler: 'random', seed: 3 };
    });

    const run = spawnSync(process.execPath, [BIN, 'research', '--config', 'examples/nanogpt-cpu/strata.yaml'], {
      cwd: repo,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
      timeout: 540_000,
    });
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    const ledger = Ledger.open(join(repo, '.strata', 'ledger.db'));
    try {
      const study = ledger.studyByName('nanogpt-cpu')!;
      expect(study.state).toBe('done');
      const trials = ledger.trials(study.id);
      // The noise-aware rule ran the unmodified baseline twice (baseline_repeats: 2).
      expect(trials.filter((trial) => trial.proposer === 'baseline').length).toBeGreaterThanOrEqual(2);
      for (const trial of trials) {
        expect(['keep', 'discard'], `#${trial.seq} ${trial.status}: ${trial.statusReason}\n${trial.logTail}`).toContain(trial.status);
        expect(trial.metric).toBeGreaterThan(0);
        expect(trial.metrics?.peak_vram_mb).toBeGreaterThan(0);
        // The metric came from evaluate.py: its log is there and its val_bpb is the trial's.
        const evaluateLog = trial.logPath!.replace(/\.log$/, '.evaluate.log');
        expect(existsSync(evaluateLog)).toBe(true);
        expect(Number(summaryValue(readFileSync(evaluateLog, 'utf8'), 'val_bpb'))).toBeCloseTo(trial.metric!, 6);
      }
      const holdout = ledger.research.holdoutResults(study.id);
      expect([...holdout.keys()]).toContain(study.bestTrialId);
      expect(holdout.get(study.bestTrialId!)).toMatchObject({ status: 'measured', metric: expect.any(Number) });
    } finally {
      ledger.close();
    }
  }, 600_000);
  it('runs with the agent proposer against a loopback model: it edits the constants at the top of train.py', async () => {
    const original = readFileSync(join(EXAMPLE, 'train.py'), 'utf8');
    const withRate = (rate: string) => original.replace(/^LEARNING_RATE = \S+/m, `LEARNING_RATE = ${rate}`);
    const write = (rate: string) => ({
      toolCalls: [
        { name: 'write_file', arguments: { path: 'train.py', content: withRate(rate) } },
        { name: 'finish', arguments: { description: `learning rate ${rate}`, hypothesis: 'the default 3e-4 is too timid for a short budget' } },
      ],
    });
    const server = await LoopbackModelServer.start([{ text: 'OK' }, write('3e-3'), write('1e-2')]);
    try {
      const repo = exampleRepo((research, config) => {
        research.proposer = 'agent';
        research.max_trials = 3;
        // The serial loop: the loopback model answers in order (speculation has its own tests).
        research.executor = { ...(research.executor as object | undefined), speculate: false };
        research.acceptance = { rule: 'strict' };
        config.llm = { model: 'openai-compatible:loop', base_url: server.url, max_retries: 0 };
      });
      const configPath = join(repo, 'examples', 'nanogpt-cpu', 'strata.yaml');
      const summary = await runResearch({ configPath, config: parseConfig(readFileSync(configPath, 'utf8'), configPath) });
      expect(server.remaining).toBe(0);
      expect(summary.trials.map((trial) => [trial.proposer, trial.status === 'keep' || trial.status === 'discard'])).toEqual([
        ['baseline', true],
        ['agent', true],
        ['agent', true],
      ]);
      expect(summary.trials[1]!.description).toBe('learning rate 3e-3');
      expect(summary.best!.metric!).toBeLessThan(summary.baseline!.metric!);
      const ledger = Ledger.open(join(repo, '.strata', 'ledger.db'));
      try {
        expect(ledger.trials(1)[1]!.diff).toContain('+LEARNING_RATE = 3e-3');
      } finally {
        ledger.close();
      }
    } finally {
      await server.close();
    }
  }, 600_000);
});
