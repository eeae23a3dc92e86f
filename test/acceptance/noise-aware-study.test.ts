/**
 * Noise-aware acceptance inside the real research loop (real git, real
 * processes): baseline repeats with their own seeds, sanity limits, reruns
 * linked to the trial they confirm, the incumbent re-check, the holdout gap
 * in status, and max_trials counting proposals, not repeats.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Proposer } from '../../src/core/proposer.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { runResearch } from '../../src/research/run-research.ts';
import { renderStatus } from '../../src/cli/commands/status.ts';
import { config, makeRepo } from '../helpers/study-repo.ts';

/** loss = (x - 1)² + 0.5 + noise, the noise (sd ≈ 0.01) drawn from STRATA_SEED; PRINT overrides the printed value. */
const trainer = (x: number, print?: string) => `import { writeFileSync } from 'node:fs';
let seed = Number(process.env.STRATA_SEED) % 2147483647 || 1;
const next = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
const noise = (next() + next() + next() + next() - 2) * 0.017;
const x = ${x};
writeFileSync(process.env.STRATA_ARTIFACTS + '/model.json', JSON.stringify({ x }));
console.log('METRIC loss=' + (${print ?? '(x - 1) ** 2 + 0.5 + noise'}));
`;
const HOLDOUT = `import { readFileSync } from 'node:fs';
const { x } = JSON.parse(readFileSync(process.env.STRATA_ARTIFACTS + '/model.json', 'utf8'));
console.log('METRIC loss=' + ((x - 1) ** 2 + 0.6));
`;

const yaml = `name: noisy
research:
  editable: [train.mjs]
  protected: [holdout.mjs]
  run: ${JSON.stringify(`${process.execPath} train.mjs`)}
  holdout: ${JSON.stringify(`${process.execPath} holdout.mjs`)}
  budget: 20s
  metric: {name: loss, goal: minimize, valid_range: [0, 100], max_improvement_factor: 3}
  proposer: command
  agent_command: "true"
  acceptance: {baseline_repeats: 4, confirm_repeats: 2, recheck_every: 2}
  max_trials: 5
  # The serial loop: this test scripts the order of proposals (speculation has its own tests).
  executor: {speculate: false}
`;

function scripted(bodies: string[]): Proposer {
  let next = 0;
  return {
    name: 'scripted',
    async propose(context) {
      writeFileSync(join(context.projectDir, 'train.mjs'), bodies[next++]!);
      return { description: `step ${next}` };
    },
  };
}

describe('noise-aware acceptance in the research loop', () => {
  it('repeats the baseline, confirms suspects and close calls with linked reruns, re-checks the incumbent, and shows the holdout gap', async () => {
    const repo = makeRepo({ 'train.mjs': trainer(3), 'holdout.mjs': HOLDOUT, 'strata.yaml': yaml });
    const summary = await runResearch({
      configPath: join(repo, 'strata.yaml'),
      config: config(yaml),
      proposer: scripted([
        trainer(1.5), // 4.5 → 0.75: a real improvement, but more than 3x in one step: suspect until a rerun confirms it
        trainer(1.5, '-1'), // a negative loss: outside valid_range, rerun, never kept
        trainer(1.5, '0.73 + noise * 0.1'), // 2σ better than the incumbent's true loss, but its kept runs were lucky: it must be measured afresh
        trainer(1.2), // 0.75 → 0.54: a clear winner after the re-check of the incumbent
      ]),
    });
    const ledger = Ledger.open(join(repo, '.strata', 'ledger.db'));
    try {
      const trials = ledger.trials(1);
      const bySeq = (seq: number) => trials.find((trial) => trial.seq === seq)!;
      // max_trials counts the baseline and the four proposals; repeats come on top.
      expect(trials.filter((trial) => trial.role === 'baseline' || trial.role === 'candidate')).toHaveLength(5);
      expect(summary.acceptance).toBe('noise-aware');

      // The baseline: four runs, each with its own seed, linked to trial #0.
      const repeats = trials.filter((trial) => trial.role === 'baseline-repeat');
      expect(repeats).toHaveLength(3);
      expect(new Set(repeats.map((trial) => trial.seed)).size).toBe(3);
      expect(repeats.every((trial) => trial.relatedTrialId === bySeq(0).id && trial.status === 'discard')).toBe(true);
      expect(bySeq(0).statusReason).toMatch(/^baseline: 4 runs with different seeds, mean 4\.\d+, run-to-run sd 0\.0\d+/);

      const candidates = trials.filter((trial) => trial.role === 'candidate');
      const [jump, negative, close, winner] = candidates;
      // The jump: confirmed by a rerun, then kept.
      expect(jump!.status).toBe('keep');
      expect(jump!.statusReason).toMatch(/suspect jump confirmed by 2 runs/);
      const jumpReruns = trials.filter((trial) => trial.role === 'rerun' && trial.relatedTrialId === jump!.id);
      expect(jumpReruns.filter((trial) => trial.queuedAt < jump!.endedAt!)).toHaveLength(1);
      // Once kept, the runs that got it kept are biased in its favour: a later close call measured it afresh first.
      expect(jumpReruns.some((trial) => trial.queuedAt > jump!.endedAt!)).toBe(true);
      // Outside valid_range twice: invalid, and no keep.
      expect(negative!.status).toBe('invalid');
      expect(negative!.statusReason).toMatch(/metric -1 is outside valid_range \[0, 100\], and its rerun did not confirm a valid value/);
      // A 2σ gain over the incumbent's true loss. The incumbent's own runs (its keep) were lucky, so before judging, the
      // incumbent was measured again (fresh runs, linked to it), and the candidate confirmed by reruns: then kept.
      expect(close!.status).toBe('keep');
      expect(close!.statusReason).toMatch(/beats the noise: .*runs: [2-5] candidate/);
      expect((close!.meta?.acceptance as { looks: number }).looks).toBeGreaterThan(2);
      // After two decisions the incumbent was run again before the fourth was judged.
      const check = trials.find((trial) => trial.role === 'incumbent-check');
      expect(check?.relatedTrialId).toBe(close!.id);
      expect(ledger.trial(close!.id).meta?.recheck).toMatchObject({ stillBetter: true });
      expect(winner!.status).toBe('keep');
      expect((winner!.meta?.acceptance as { evidence: { test: { pValue: number } } }).evidence.test.pValue).toBeLessThan(0.001);

      // The holdout ran on each new best; status shows it beside validation, with the gap.
      expect(summary.best?.trial).toBe(winner!.seq);
      expect(summary.best?.holdout).toBeCloseTo(0.2 ** 2 + 0.6, 9);
      expect(summary.best!.holdout_gap!).toBeCloseTo(summary.best!.holdout! - summary.best!.metric!, 9);
      const text = renderStatus(summary, process.stdout);
      expect(text).toMatch(/holdout 0\.64\d* \(gap /);
      expect(text).toContain('holdout (gap)');
    } finally {
      ledger.close();
    }
  });
});
