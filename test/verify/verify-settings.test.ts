/**
 * strata verify's settings and edges with real processes, git and SQLite:
 * `--budget 2x` and `--env K=V` measure at the other setting (the trainer's
 * gains grow with both), `--max-time` prints the plan and its estimate first,
 * stops before a run that would end after it and refuses when not one run
 * fits, and a kept change whose inverse diff does not apply onto the best is
 * reported as a conflict for that change (and kept by finalize), never skipped.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Ledger } from '../../src/ledger/ledger.ts';
import { strataProcess } from '../helpers/strata-process.ts';
import { gitIn, makeRepo } from '../helpers/study-repo.ts';
import { nightStudy } from './night-study.ts';
import { verifyPlans, verifyResult } from '../../src/verify/verify-record.ts';

const TWO_CHANGES = [
  { flag: 'A', effect: 0.3 },
  { flag: 'B', effect: 0.2 },
];

interface VerifyJson {
  plan: { verifyId: number; budgetMs: number; env: Record<string, string>; conflicts: { changeTrialId: number; message: string }[] };
  overall: { improvement: number; interval: [number, number] };
  contributions: { change: { seq: number }; verdict: string; conflict: string | null; comparison: { improvement: number; interval: [number, number] } | null }[];
  runs: { done: number; planned: number };
}

function verifyTrials(dir: string): { seq: number; status: string; budgetMs: number | null; meta: Record<string, unknown> | null }[] {
  const ledger = Ledger.openForReading(join(dir, '.strata', 'ledger.db'));
  try {
    return ledger.trials(ledger.studyByName('night')!.id).filter((trial) => trial.role === 'verify');
  } finally {
    ledger.close();
  }
}

/** The study's latest verify as the ledger holds it (what --json prints), read without running another. */
function lastVerify(dir: string): VerifyJson {
  const ledger = Ledger.openForReading(join(dir, '.strata', 'ledger.db'));
  try {
    const study = ledger.studyByName('night')!;
    return verifyResult(ledger.trials(study.id), study, verifyPlans(ledger, study.id).at(-1)!, 'minimize') as unknown as VerifyJson;
  } finally {
    ledger.close();
  }
}

describe('strata verify settings', () => {
  it('--budget 2x and --env K=V run every arm at that setting, as a plan of their own', async () => {
    // The gains scale with the budget (10 s in the study) and with GAIN: at 2x and GAIN=1.5 every effect is 3 times larger.
    const dir = nightStudy({ changes: TWO_CHANGES, lucky: null, effectScale: '(Number(process.env.STRATA_BUDGET_S) / 10) * Number(process.env.GAIN ?? 1)' });
    expect((await strataProcess(dir, ['research'])).code).toBe(0);
    const human = await strataProcess(dir, ['verify', '--repeats', '2', '--budget', '2x', '--env', 'GAIN=1.5']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout.split('\n')[0]).toMatch(/^verify night: 4 arms × 2 runs = 8 runs, 8 to run, about .+ at budget 20(\.0)?s with GAIN=1\.5$/);
    const result = lastVerify(dir);
    expect(result.plan).toMatchObject({ verifyId: 1, budgetMs: 20_000, env: { GAIN: '1.5' } });
    // The noise is within ±0.01 per run, so each mean difference is within 0.02 of the truth: 3 times the study's gains.
    expect(Math.abs(result.overall.improvement - 1.5)).toBeLessThan(0.03);
    const bySeq = new Map(result.contributions.map((item) => [item.change.seq, item]));
    expect(Math.abs(bySeq.get(1)!.comparison!.improvement - 0.9)).toBeLessThan(0.03);
    expect(Math.abs(bySeq.get(2)!.comparison!.improvement - 0.6)).toBeLessThan(0.03);
    expect(verifyTrials(dir).every((trial) => trial.budgetMs === 20_000)).toBe(true);

    // The study's own setting is another plan: it does not resume the 2x one, and it measures the gains as they were.
    const plain = JSON.parse((await strataProcess(dir, ['verify', '--repeats', '2', '--json'])).stdout) as VerifyJson;
    expect(plain.plan).toMatchObject({ verifyId: 2, budgetMs: 10_000, env: {} });
    expect(Math.abs(plain.overall.improvement - 0.5)).toBeLessThan(0.03);
    expect(verifyTrials(dir)).toHaveLength(16);

    const refused = await strataProcess(dir, ['verify', '--env', 'STRATA_SEED=1']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('--env cannot set STRATA_SEED');
    expect(refused.stderr).not.toMatch(/\n\s+at /);
  }, 120_000);

  it('--max-time: prints the runs and their estimate first, stops before a run that would end after it, refuses when none fits, and resumes', async () => {
    // Every run sleeps 400 ms: 8 runs cannot fit in 1 s, and no run fits in 1 ms.
    const dir = nightStudy({ changes: TWO_CHANGES, lucky: null, trainerPrelude: 'await new Promise((resolve) => setTimeout(resolve, 400));' });
    expect((await strataProcess(dir, ['research'])).code).toBe(0);

    const none = await strataProcess(dir, ['verify', '--repeats', '2', '--max-time', '1ms']);
    expect(none.code).toBe(1);
    expect(none.stdout.split('\n')[0]).toMatch(/^verify night: 4 arms × 2 runs = 8 runs, 8 to run, about \S+/);
    expect(none.stdout).toMatch(/--max-time 1ms: about 0 of the 8 runs fit/);
    expect(none.stdout).toContain('is shorter than one run');
    expect(none.stdout).toContain('nothing was run');
    expect(verifyTrials(dir)).toHaveLength(0);

    const some = await strataProcess(dir, ['verify', '--repeats', '2', '--max-time', '1s']);
    expect(some.code).toBe(1);
    const lines = some.stdout.split('\n');
    expect(lines[0]).toMatch(/^verify night \(resumed\): 4 arms × 2 runs = 8 runs, 8 to run, about \S+/);
    expect(lines[1]).toMatch(/^ {2}--max-time 1(\.0)?s: about \d of the 8 runs fit/);
    expect(some.stdout).toMatch(/--max-time 1(\.0)?s: the next run would end after it, \d run\(s\) left; run strata verify again to resume/);
    const partial = verifyTrials(dir);
    expect(partial.length).toBeGreaterThanOrEqual(1);
    expect(partial.length).toBeLessThan(8);
    expect(some.stdout).toContain(`${partial.length} of 8 runs done`);

    // finalize names the unfinished verify and how to finish it.
    const finalize = await strataProcess(dir, ['finalize']);
    expect(finalize.code).not.toBe(0);
    expect(finalize.stderr).toContain(`verify 1 stopped after ${partial.length} of 8 runs`);

    // Without the limit the same plan resumes and runs only what is missing.
    const rest = await strataProcess(dir, ['verify', '--repeats', '2', '--json']);
    expect(rest.code, rest.stderr).toBe(0);
    const result = JSON.parse(rest.stdout) as VerifyJson;
    expect(result.plan.verifyId).toBe(1);
    expect(result.runs).toMatchObject({ done: 8, planned: 8 });
    const all = verifyTrials(dir);
    expect(all).toHaveLength(8);
    expect(all.slice(0, partial.length).map((trial) => trial.seq)).toEqual(partial.map((trial) => trial.seq));
  }, 120_000);

  it('reports a kept change whose inverse diff does not apply onto the best as a conflict, and finalize keeps it', async () => {
    // Change #2 edits the line change #1 wrote: the best without #1 cannot be built. Serial proposals, so #2 is made on #1.
    const dir = makeRepo({
      'train.mjs': `const LR = 0;
const seed = Number(process.env.STRATA_SEED ?? 0);
const noise = ((Math.imul(seed ^ 0x9e3779b9, 2654435761) >>> 0) % 2001) / 100000 - 0.01;
console.log('METRIC loss=' + (2 - 0.1 * LR + noise));
`,
      'propose.mjs': `import { readFileSync, writeFileSync } from 'node:fs';
const seq = Number(process.env.STRATA_TRIAL);
writeFileSync('train.mjs', readFileSync('train.mjs', 'utf8').replace('const LR = ' + (seq - 1) + ';', 'const LR = ' + seq + ';'));
writeFileSync(process.env.STRATA_DESCRIPTION_FILE ?? 'unused', 'LR to ' + seq);
`,
      'strata.yaml': `name: night
research:
  editable: [train.mjs]
  run: ${JSON.stringify(`${process.execPath} train.mjs`)}
  budget: 10s
  metric: {name: loss, goal: minimize}
  proposer: command
  agent_command: ${JSON.stringify(`${process.execPath} propose.mjs`)}
  acceptance: {rule: strict}
  executor: {speculate: false}
  max_trials: 3
`,
    });
    expect((await strataProcess(dir, ['research'])).code).toBe(0);
    const human = await strataProcess(dir, ['verify', '--repeats', '2']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout.split('\n')[0]).toMatch(/3 arms × 2 runs = 6 runs/); // baseline, best, without #2
    expect(human.stdout).toMatch(/^ {2}conflict: #1 cannot be left out of the best: its inverse diff does not apply onto the best: .*train\.mjs/m);
    expect(human.stdout).toMatch(/#1 +LR to 1 .*conflict: cannot be left out/);

    const result = JSON.parse((await strataProcess(dir, ['verify', '--repeats', '2', '--json'])).stdout) as VerifyJson;
    expect(result.contributions.map((item) => [item.change.seq, item.verdict])).toEqual([
      [1, 'conflict'],
      [2, 'needed'],
    ]);
    expect(result.contributions[0]!.conflict).toMatch(/patch does not apply|train\.mjs/);

    const finalize = await strataProcess(dir, ['finalize']);
    expect(finalize.code, finalize.stderr + finalize.stdout).toBe(0);
    expect(gitIn(dir, 'log', '--format=%s', 'main..strata/night-final').split('\n')).toEqual(['LR to 2', 'LR to 1']);
    expect(gitIn(dir, 'log', '-1', '--format=%b', 'strata/night-final~1')).toContain('not measured (it could not be left out of the best)');
    const report = await strataProcess(dir, ['report']);
    expect(report.code).toBe(0);
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toMatch(/<g class="contribution" data-seq="1" data-verdict="conflict">[\s\S]*?inverse diff conflicts/);
    // The Markdown report links the chart as a file beside it and lists the contributions.
    expect((await strataProcess(dir, ['report', '--format', 'md'])).code).toBe(0);
    const markdown = readFileSync(join(dir, 'report.md'), 'utf8');
    expect(markdown).toContain('## Verified contributions');
    expect(markdown).toContain('![contribution of each kept change](report-contributions.svg)');
    expect(markdown).toMatch(/\| #1 \| – \| – \| conflict: could not be left out: .*\| LR to 1 \|/);
    expect(readFileSync(join(dir, 'report-contributions.svg'), 'utf8')).toMatch(/^<svg [^>]*data-verify="2"/);
  }, 120_000);
});
