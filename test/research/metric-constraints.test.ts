import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config/parse-config.ts';
import { ConfigError } from '../../src/core/errors.ts';
import type { Proposer } from '../../src/core/proposer.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { brokenConstraints } from '../../src/research/metric-constraints.ts';
import { runResearch } from '../../src/research/run-research.ts';
import { readSecondaryMetrics } from '../../src/research/secondary-metrics.ts';
import { makeRepo } from '../helpers/study-repo.ts';

const base = (extra: string) => `name: t
research:
  editable: [train.py]
  run: python3 train.py
  budget: 5m
  proposer: command
  agent_command: "true"
  metric:
    name: val_bpb
    goal: minimize
    pattern: '^val_bpb:\\s*(\\S+)'
${extra}`;

function problems(text: string): string[] {
  try {
    parseConfig(text);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((issue) => `${issue.path}: ${issue.message}`);
    throw error;
  }
  return [];
}

describe('secondary metrics', () => {
  it('reads autoresearch summary lines and METRIC lines, the last value winning', () => {
    const output = ['step 1', '---', 'val_bpb:          0.997900', 'peak_vram_mb:     45060.2', 'METRIC tokens_per_s=1200', 'peak_vram_mb: 45100.5'].join('\n');
    expect(readSecondaryMetrics(output, [{ name: 'peak_vram_mb' }, { name: 'tokens_per_s' }, { name: 'mfu_percent' }])).toEqual({
      peak_vram_mb: 45100.5,
      tokens_per_s: 1200,
    });
  });

  it('uses a pattern when given, and drops a value that is not a finite number', () => {
    expect(readSecondaryMetrics('memory 3.5 GB\n', [{ name: 'memory_gb', pattern: '^memory (\\S+) GB' }])).toEqual({ memory_gb: 3.5 });
    expect(readSecondaryMetrics('peak_vram_mb: 10\npeak_vram_mb: nan\n', [{ name: 'peak_vram_mb' }])).toEqual({});
    expect(readSecondaryMetrics('peak_vram_mb: 10 MB\n', [{ name: 'peak_vram_mb' }])).toEqual({});
  });

  it('are configured as names or {name, pattern}, distinct from the main metric', () => {
    const config = parseConfig(base(`    secondary: [peak_vram_mb, {name: mfu, pattern: '^mfu_percent:\\s*(\\S+)'}]\n`));
    expect(config.research!.metric.secondary).toEqual([{ name: 'peak_vram_mb' }, { name: 'mfu', pattern: '^mfu_percent:\\s*(\\S+)' }]);
    expect(config.research!.constraints).toEqual([]);
    expect(problems(base(`    secondary: [val_bpb, peak_vram_mb, peak_vram_mb]\n`))).toEqual([
      'research.metric.secondary.0: val_bpb is the main metric',
      'research.metric.secondary.2: peak_vram_mb is listed twice',
    ]);
  });
});

describe('constraints', () => {
  it('are normalized and must name a metric of the study with a usable bound', () => {
    const ok = parseConfig(base(`    secondary: [peak_vram_mb]\n  constraints: {peak_vram_mb: {max: 80000}, val_bpb: {min: 0}}\n`));
    expect(ok.research!.constraints).toEqual([
      { metric: 'peak_vram_mb', max: 80000 },
      { metric: 'val_bpb', min: 0 },
    ]);
    expect(problems(base(`  constraints: {peak_vram_mb: {max: 1}, val_bpb: {}, x_y: {min: 3, max: 2}}\n`))).toEqual([
      'research.constraints.peak_vram_mb: peak_vram_mb is not a metric of this study: add it to research.metric.secondary',
      'research.constraints.val_bpb: give min, max or both',
      'research.constraints.x_y: x_y is not a metric of this study: add it to research.metric.secondary',
      'research.constraints.x_y.min: must not be above max (2), got 3',
    ]);
  });

  it('report each broken bound, and a constrained metric that is missing', () => {
    const constraints = [{ metric: 'peak_vram_mb', max: 80000 }, { metric: 'val_bpb', min: 0.5 }, { metric: 'tokens', min: 1 }];
    expect(brokenConstraints({ peak_vram_mb: 80000, val_bpb: 0.5, tokens: 1 }, constraints)).toEqual([]);
    expect(brokenConstraints({ peak_vram_mb: 91000.5, val_bpb: 0.4 }, constraints)).toEqual([
      'peak_vram_mb = 91000.5 is above the max of 80000',
      'val_bpb = 0.4 is below the min of 0.5',
      'tokens was not reported, so its constraint cannot be checked',
    ]);
  });

  it('make a trial whose main metric improved invalid in the loop, and record its secondary metrics', async () => {
    const trainer = (bpb: number, vram: number) => `console.log('---');\nconsole.log('val_bpb: ${bpb}');\nconsole.log('peak_vram_mb:     ${vram}');\n`;
    const text = `name: vram
research:
  editable: [train.mjs]
  run: ${JSON.stringify(`${process.execPath} train.mjs`)}
  budget: 20s
  metric:
    name: val_bpb
    goal: minimize
    pattern: '^val_bpb:\\s*(\\S+)'
    secondary: [peak_vram_mb]
  constraints: {peak_vram_mb: {max: 1000}}
  proposer: command
  agent_command: "true"
  max_trials: 3
  acceptance: {rule: strict}
`;
    const repo = makeRepo({ 'train.mjs': trainer(1.5, 800), 'strata.yaml': text });
    const bodies = [trainer(1.2, 1500), trainer(1.4, 900)];
    let next = 0;
    const proposer: Proposer = {
      name: 'scripted',
      async propose(context) {
        writeFileSync(join(context.projectDir, 'train.mjs'), bodies[next++]!);
        return { description: `step ${next}` };
      },
    };
    const summary = await runResearch({ configPath: join(repo, 'strata.yaml'), config: parseConfig(text), proposer });

    expect(summary.trials.map((trial) => [trial.status, trial.metric, trial.metrics?.peak_vram_mb])).toEqual([
      ['keep', 1.5, 800],
      ['invalid', 1.2, 1500],
      ['keep', 1.4, 900],
    ]);
    expect(summary.trials[1]!.reason).toBe('broke research.constraints: peak_vram_mb = 1500 is above the max of 1000');
    const ledger = Ledger.open(join(repo, '.strata', 'ledger.db'));
    try {
      expect(ledger.study(1).bestTrialId).toBe(ledger.trials(1)[2]!.id);
    } finally {
      ledger.close();
    }
  }, 60_000);
});
