import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import type { Proposer, ProposalContext } from '../../src/core/proposer.ts';
import { Ledger } from '../../src/ledger/ledger.ts';

/** A trainer whose loss is (x - 1)^2 + 0.5 for `x`, minus `y`; `crash` exits 1; sleeps `sleepMs`. */
export function trainer(x: number, options: { y?: number; crash?: boolean; sleepMs?: number; padding?: number } = {}): string {
  return [
    `const x = ${x};`,
    // Lines apart, so changes to x and to y merge cleanly.
    ...Array.from({ length: 4 + (options.padding ?? 0) }, (_, index) => `// padding ${index}`),
    `const y = ${options.y ?? 0};`,
    `await new Promise((resolve) => setTimeout(resolve, ${options.sleepMs ?? 0}));`,
    options.crash ? `console.error('Traceback: boom'); process.exit(1);` : `console.log('METRIC loss=' + ((x - 1) ** 2 - y + 0.5));`,
    '',
  ].join('\n');
}

/** strata.yaml of a small study on train.mjs with a scripted proposer in-process (proposer: search is only what the file says). */
export function studyYaml(options: { name?: string; maxTrials?: number; extra?: string; proposer?: string } = {}): string {
  return `name: ${options.name ?? 'steer'}
research:
  editable: [train.mjs]
  run: ${JSON.stringify(`${process.execPath} train.mjs`)}
  budget: 20s
  metric: {name: loss, goal: minimize}
  max_trials: ${options.maxTrials ?? 4}
  # The serial loop: this test scripts the order of proposals (speculation has its own tests).
  executor: {speculate: false}
  acceptance: {rule: strict}
${options.proposer ?? '  params: {x: {type: float, low: -5, high: 5}}\n'}${options.extra ?? ''}`;
}

/**
 * A proposer that writes step N for its Nth fresh trial (by seq, from `firstSeq`), so a proposal asked
 * again (a speculative one revised) gets the same step; it records every context it was given.
 */
export function scripted(steps: { description: string; train: string }[], seen: ProposalContext[] = [], firstSeq = 1): Proposer {
  return {
    name: 'scripted',
    async propose(context) {
      seen.push(context);
      const step = steps[context.seq - firstSeq];
      // Out of steps: a proposal that changes nothing (it ends invalid and counts, so max_trials ends the study;
      // a failing one would be retried at once, many times, while a trial still runs).
      if (!step) {
        // Slowly, so such proposals do not race ahead of a trial that still runs.
        await new Promise((resolve) => setTimeout(resolve, 1000));
        return { description: 'nothing left to try' };
      }
      writeFileSync(join(context.projectDir, 'train.mjs'), step.train);
      return { description: step.description };
    },
  };
}

/** Open the repository's ledger (the caller closes it). */
export function ledgerOf(repo: string): Ledger {
  return Ledger.open(join(repo, '.strata', 'ledger.db'));
}
