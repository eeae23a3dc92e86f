import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config/parse-config.ts';
import { parseMemorySize } from '../../src/core/config/trust-config.ts';
import { ConfigError } from '../../src/core/errors.ts';

const base = (extra: string, metricExtra = '') => `name: t
research:
  editable: [train.py]
  run: python train.py
  budget: 5m
  metric: {name: loss, goal: minimize${metricExtra}}
  params: {x: {type: float, low: 0, high: 1}}
${extra}`;

describe('trust keys in strata.yaml', () => {
  it('fill in defaults: noise-aware unless named, network on, no stages', () => {
    const research = parseConfig(base('')).research!;
    expect(research.acceptance).toEqual({ baselineRepeats: 1, minDelta: 0, confidence: 0.95, confirmRepeats: 4, recheckEvery: 10 });
    expect(research.acceptance.rule).toBeUndefined();
    expect(research.evaluate).toBeUndefined();
    expect(research.holdout).toBeUndefined();
    expect(research.sandbox).toEqual({ network: 'on', limits: {}, envPassthrough: [], readable: [], writable: [] });
    expect(research.agentSandbox).toEqual({ network: 'on', writable: [], envPassthrough: [] });
  });

  it('normalize every key', () => {
    const research = parseConfig(
      base(
        `  evaluate: python evaluate.py
  evaluate_budget: 90s
  evaluate_code: candidate
  holdout: python evaluate.py --split test
  holdout_data: [../data/test.bin]
  acceptance: {rule: noise-aware, baseline_repeats: 3, min_delta: 0.01, confidence: 0.99, confirm_repeats: 2, recheck_every: 0}
  network: off
  limits: {memory: 8GiB, processes: 256}
  env_passthrough: [WANDB_API_KEY, COMET_*]
  sandbox_readable: [/data/shared]
  sandbox_writable: [~/.cache/huggingface]
  agent_sandbox: {network: off, writable: [~/.npm], env_passthrough: [MY_GATEWAY_TOKEN]}
`,
        ', valid_range: [0, 8], max_improvement_factor: 2',
      ),
    ).research!;
    expect(research.evaluate).toEqual({ command: 'python evaluate.py', budgetMs: 90_000, graceMs: 9000, code: 'candidate' });
    expect(research.holdout).toEqual({ command: 'python evaluate.py --split test', budgetMs: 90_000, graceMs: 9000 });
    expect(research.holdoutData).toEqual(['../data/test.bin']);
    expect(research.acceptance).toEqual({ rule: 'noise-aware', baselineRepeats: 3, minDelta: 0.01, confidence: 0.99, confirmRepeats: 2, recheckEvery: 0 });
    expect(research.sandbox).toEqual({
      network: 'off',
      limits: { memoryBytes: 8 * 2 ** 30, processes: 256 },
      envPassthrough: ['WANDB_API_KEY', 'COMET_*'],
      readable: ['/data/shared'],
      writable: ['~/.cache/huggingface'],
    });
    expect(research.agentSandbox).toEqual({ network: 'off', writable: ['~/.npm'], envPassthrough: ['MY_GATEWAY_TOKEN'] });
    expect(research.metric).toMatchObject({ validRange: [0, 8], maxImprovementFactor: 2 });
  });

  it('report every misuse at once, with its path', () => {
    let error: ConfigError | undefined;
    try {
      parseConfig(
        base(
          `  evaluate_budget: 1m
  holdout_data: [x]
  acceptance: {rule: strict, confirm_repeats: 2, min_delta: 0.1, baseline_repeats: 0}
  network: maybe
  limits: {memory: lots}
`,
          ', valid_range: [8, 0]',
        ),
      );
    } catch (caught) {
      error = caught as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const paths = error!.issues.map((issue) => issue.path);
    expect(paths).toEqual(expect.arrayContaining(['research.acceptance.baseline_repeats', 'research.network', 'research.limits.memory']));
  });

  it('report rules that span keys', () => {
    let error: ConfigError | undefined;
    try {
      parseConfig(base(`  evaluate_budget: 1m\n  holdout_data: [x]\n  acceptance: {rule: strict, confirm_repeats: 2, min_delta: 0.1}\n`, ', valid_range: [8, 0]'));
    } catch (caught) {
      error = caught as ConfigError;
    }
    expect(error!.issues.map((issue) => issue.path).sort()).toEqual([
      'research.acceptance.confirm_repeats',
      'research.acceptance.min_delta',
      'research.evaluate_budget',
      'research.holdout_data',
      'research.metric.valid_range',
    ]);
  });

  it('reads memory sizes in binary units', () => {
    expect(parseMemorySize('512MiB')).toBe(512 * 2 ** 20);
    expect(parseMemorySize('16G')).toBe(16 * 2 ** 30);
    expect(parseMemorySize('1.5 GiB')).toBe(1.5 * 2 ** 30);
    expect(parseMemorySize(4096)).toBe(4096);
  });
});
