import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Ledger } from '../../src/ledger/ledger.ts';
import { runResearch } from '../../src/research/run-research.ts';
import { config, makeRepo } from '../helpers/study-repo.ts';

const opened: Ledger[] = [];
afterEach(() => {
  for (const ledger of opened.splice(0)) ledger.close();
});

/**
 * A trainer that hangs past its budget on the trials named in HANG (a slow node, a stuck data loader),
 * and otherwise reports a loss that moves a little with the seed.
 */
const TRAINER = `const hang = (process.env.HANG ?? '').split(',').filter(Boolean).map(Number);
if (hang.includes(Number(process.env.STRATA_TRIAL))) await new Promise((resolve) => setTimeout(resolve, 60_000));
const seed = Number(process.env.STRATA_SEED ?? 0);
console.log('METRIC loss=' + (2 + (seed % 7) / 1000));
`;
const yaml = (hang: string) => `name: flaky
research:
  editable: [train.mjs]
  run: ${JSON.stringify(`${process.execPath} train.mjs`)}
  budget: 1s
  grace: 0.5s
  metric: {name: loss, goal: minimize}
  params: {x: {type: float, low: 0, high: 1}}
  search: {seed: 3}
  acceptance: {rule: noise-aware, baseline_repeats: 3}
  env: {HANG: "${hang}"}
  max_trials: 2
`;

function trialsOf(repo: string) {
  const ledger = Ledger.open(join(repo, '.strata', 'ledger.db'));
  opened.push(ledger);
  return { ledger, trials: ledger.trials(1) };
}

describe('baseline reliability', () => {
  it('retries a baseline repeat that timed out once, with a new seed, and the study goes on', async () => {
    const repo = makeRepo({ 'train.mjs': TRAINER, 'strata.yaml': yaml('1') });
    const summary = await runResearch({ configPath: join(repo, 'strata.yaml'), config: config(yaml('1')) });
    expect(summary.study.state).toBe('done');
    const { trials } = trialsOf(repo);
    const repeats = trials.filter((trial) => trial.role === 'baseline-repeat');
    expect(repeats.map((trial) => trial.status)).toEqual(['timeout', 'discard', 'discard']);
    expect(new Set(repeats.map((trial) => trial.seed)).size).toBe(3);
    const baseline = trials.find((trial) => trial.role === 'baseline')!;
    expect(baseline.status).toBe('keep');
    expect(baseline.statusReason).toMatch(/3 runs with different seeds.*1 failed repeat\(s\) retried with a new seed/);
    expect(trials.some((trial) => trial.role === 'candidate')).toBe(true);
  }, 60_000);

  it('stops the study when the retry fails too, and each row keeps its own status: the baseline measured, its repeats timed out', async () => {
    const repo = makeRepo({ 'train.mjs': TRAINER, 'strata.yaml': yaml('1,2') });
    const summary = await runResearch({ configPath: join(repo, 'strata.yaml'), config: config(yaml('1,2')) });
    expect(summary.study.state).toBe('failed');
    expect(summary.study.stop_reason).toMatch(/the baseline \(unmodified code\) ended discard: measured 2\.\d+, but its repeat runs failed twice in a row/);
    const { ledger, trials } = trialsOf(repo);
    expect(ledger.studyByName('flaky')!.stopCause).toBe('baseline-failed');
    const baseline = trials.find((trial) => trial.role === 'baseline')!;
    // The baseline's own run finished with a metric: its row says so, not the repeats' timeout.
    expect(baseline.status).toBe('discard');
    expect(baseline.cause).toBe('baseline-unreliable');
    expect(baseline.metric).toBeCloseTo(2, 1);
    expect(trials.filter((trial) => trial.role === 'baseline-repeat').map((trial) => trial.status)).toEqual(['timeout', 'timeout']);
    expect(trials.some((trial) => trial.role === 'candidate')).toBe(false);
  }, 60_000);
});
