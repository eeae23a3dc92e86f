import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.ts';
import { parseConfig } from '../../src/core/config/parse-config.ts';

const base = (extra: string) => `name: t
research:
  editable: [train.py]
  run: python train.py
  budget: 300s
  metric: {name: loss, goal: minimize}
  params: {lr: {type: float, low: 0.001, high: 0.1}}
${extra}`;

function problems(text: string): string[] {
  try {
    parseConfig(text);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((issue) => `${issue.path}: ${issue.message}`);
    throw error;
  }
}

describe('research.executor', () => {
  it('defaults to one local slot with no lookahead (the serial loop)', () => {
    expect(parseConfig(base('')).research!.executor).toMatchObject({ kind: 'local', slots: 1, lookahead: 0, concurrentProposals: 1 });
  });

  it('gives one slot per GPU, a lookahead of 1 with several slots, and one proposal at a time for the search proposer', () => {
    const executor = parseConfig(base('  executor: {gpus: [0, 1, 2, "3,4"]}\n')).research!.executor;
    expect(executor).toMatchObject({ kind: 'local', slots: 4, gpus: ['0', '1', '2', '3,4'], lookahead: 1, concurrentProposals: 1 });
    const agent = parseConfig(base('  executor: {slots: 3}\n').replace('params:', 'proposer: command\n  agent_command: "true"\n  params:')).research!.executor;
    expect(agent.concurrentProposals).toBe(3);
  });

  it('reads the SLURM options with their defaults', () => {
    const executor = parseConfig(
      base('  executor:\n    kind: slurm\n    slots: 8\n    shared_dir: /shared/strata\n    slurm: {partition: gpu, account: lab, gpus_per_trial: 2, gpu_type: a100, extra_args: ["--constraint=ib"]}\n'),
    ).research!.executor;
    expect(executor).toMatchObject({
      kind: 'slurm',
      slots: 8,
      sharedDir: '/shared/strata',
      slurm: { partition: 'gpu', account: 'lab', gpusPerTrial: 2, gpuType: 'a100', timeMarginMs: 120_000, pollIntervalMs: 5000, extraArgs: ['--constraint=ib'] },
    });
  });

  it('reports contradictions at their dot paths', () => {
    expect(problems(base('  executor: {slots: 2, gpus: [0, 1, 2]}\n'))).toEqual(['research.executor.slots: 2 slots but 3 gpus; with gpus there is one slot per entry: drop slots']);
    expect(problems(base('  executor: {gpus: [1, 1]}\n'))).toEqual(['research.executor.gpus: lists a device twice (1, 1); two trials would share it']);
    expect(problems(base('  executor: {kind: slurm, gpus: [0]}\n'))).toEqual([
      'research.executor.gpus: SLURM assigns the devices: use research.executor.slurm.gpus_per_trial and slots instead',
    ]);
    expect(problems(base('  executor: {slurm: {partition: gpu}}\n'))).toEqual(['research.executor.slurm: only used with kind: slurm; set kind: slurm or remove this section']);
    expect(problems(base('  executor: {slotz: 2}\n'))[0]).toMatch(/^research.executor.slotz: unknown key \(did you mean "slots"\?\)/);
  });
});

describe('research.fidelity', () => {
  it('normalizes the screening budget and its grace', () => {
    expect(parseConfig(base('  fidelity: {screen_budget: 60s, promote_top: 0.25, budget: 300s}\n')).research!.fidelity).toEqual({
      screenBudgetMs: 60_000,
      screenGraceMs: 6000,
      promoteTop: 0.25,
    });
  });

  it('refuses a full budget that disagrees with research.budget, and a screen as long as the full run', () => {
    expect(problems(base('  fidelity: {screen_budget: 300s, promote_top: 0.5, budget: 200s}\n'))).toEqual([
      'research.fidelity.budget: 200s differs from research.budget (300s); research.budget is the full budget: make them equal or drop this key',
      'research.fidelity.screen_budget: must be shorter than the full budget (300s), got 300s',
    ]);
    expect(problems(base('  fidelity: {screen_budget: 60s, promote_top: 0}\n'))[0]).toMatch(/^research.fidelity.promote_top/);
  });
});
