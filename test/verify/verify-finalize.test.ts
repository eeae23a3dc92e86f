/**
 * After the night, with real processes, git and SQLite: a trainer whose loss
 * is 2 − the known effects of named code changes + seeded noise, a command
 * proposer applying the changes in order (A: −0.3, NOOP: nothing, B: −0.2),
 * and a planted lucky first run that gets the no-op kept by the strict rule.
 * verify must find each real change's contribution within its interval and
 * mark the no-op not needed; finalize must write a branch with exactly A and
 * B whose tree re-verifies; a kill -9 during verify must resume.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Ledger } from '../../src/ledger/ledger.ts';
import { checkLedger } from '../../src/ledger/ledger-check.ts';
import { strataProcess } from '../helpers/strata-process.ts';
import { gitIn, makeRepo } from '../helpers/study-repo.ts';
import { nightStudy } from './night-study.ts';
import { StudyRepository } from '../../src/workspace/study-repository.ts';
import { applyPatchOnto, changePatch } from '../../src/verify/change-patches.ts';

const study = () => nightStudy();

describe('strata verify and finalize', () => {
  it('measures each kept change, marks the lucky no-op not needed, resumes after kill -9, and finalizes a branch that re-verifies', async () => {
    const dir = study();
    const research = await strataProcess(dir, ['research']);
    expect(research.code, research.stderr).toBe(0);
    const ledgerPath = join(dir, '.strata', 'ledger.db');
    const kept = () => {
      const ledger = Ledger.openForReading(ledgerPath);
      try {
        return ledger.trials(ledger.studyByName('night')!.id).filter((trial) => trial.status === 'keep' && trial.role === 'candidate').map((trial) => trial.seq);
      } finally {
        ledger.close();
      }
    };
    expect(kept()).toEqual([1, 2, 3]); // the no-op (#2) was kept on its lucky run

    // Killed at its 4th run; the next verify resumes the same plan and runs only what is missing.
    const killed = await strataProcess(dir, ['verify', '--repeats', '3'], { env: { STRATA_CHAOS_KILL: 'verify:4' } });
    expect(killed.signal).toBe('SIGKILL');
    const verifyRuns = () => {
      const ledger = Ledger.openForReading(ledgerPath);
      try {
        return ledger.trials(ledger.studyByName('night')!.id).filter((trial) => trial.role === 'verify');
      } finally {
        ledger.close();
      }
    };
    const beforeResume = verifyRuns();
    expect(beforeResume.map((trial) => trial.status)).toEqual(['discard', 'discard', 'discard', 'running']); // three measured, the fourth live when killed
    const resumed = await strataProcess(dir, ['verify', '--repeats', '3', '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const result = JSON.parse(resumed.stdout);
    expect(result.plan.verifyId).toBe(1);
    expect(result.runs.done).toBe(15); // 5 arms (baseline, best, without each of 3) × 3
    // The three finished runs count as they were; only the one the kill cut short ran again: 15 measured + 1 interrupted.
    const afterResume = verifyRuns();
    expect(afterResume).toHaveLength(16);
    expect(afterResume.slice(0, 3)).toEqual(beforeResume.slice(0, 3));
    expect(afterResume[3]!.status).toBe('interrupted');
    expect(afterResume.filter((trial) => trial.status === 'discard')).toHaveLength(15);
    const bySeq = new Map<number, { verdict: string; comparison: { improvement: number; interval: [number, number] } }>(
      result.contributions.map((item: { change: { seq: number } }) => [item.change.seq, item]),
    );
    const within = (seq: number, effect: number) => {
      const { interval } = bySeq.get(seq)!.comparison;
      expect(interval[0]).toBeLessThanOrEqual(effect);
      expect(interval[1]).toBeGreaterThanOrEqual(effect);
    };
    within(1, 0.3);
    within(3, 0.2);
    expect(bySeq.get(1)!.verdict).toBe('needed');
    expect(bySeq.get(3)!.verdict).toBe('needed');
    expect(bySeq.get(2)!.verdict).toBe('not-needed');
    const overall = result.overall.interval as [number, number];
    expect(overall[0]).toBeLessThanOrEqual(0.5);
    expect(overall[1]).toBeGreaterThanOrEqual(0.5);

    const human = await strataProcess(dir, ['verify', '--repeats', '3']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/Welch t, df \d/);
    expect(human.stdout).toMatch(/#2 .*not needed/);

    // Killed during its re-verification, finalize has written no branch; run again, it resumes that check and writes it.
    const cut = await strataProcess(dir, ['finalize'], { env: { STRATA_CHAOS_KILL: 'verify:2' } });
    expect(cut.signal).toBe('SIGKILL');
    expect(() => gitIn(dir, 'rev-parse', '--verify', '--quiet', 'refs/heads/strata/night-final')).toThrow();
    const finalize = await strataProcess(dir, ['finalize']);
    expect(finalize.code, finalize.stderr + finalize.stdout).toBe(0);
    expect(finalize.stdout).toMatch(/finalize: 2 arms × 3 runs to verify the final tree, 5 to run/);
    const log = gitIn(dir, 'log', '--format=%s', 'main..strata/night-final');
    expect(log.split('\n')).toEqual(['turn on B', 'turn on A']);
    const finalTrainer = gitIn(dir, 'show', 'strata/night-final:train.mjs');
    expect(finalTrainer).toContain('const A = 1;');
    expect(finalTrainer).toContain('const NOOP = 0;');
    expect(finalTrainer).toContain('const B = 1;');
    expect(gitIn(dir, 'log', '-1', '--format=%b', 'strata/night-final')).toMatch(/Measured contribution: \+0\.\d+ \[/);
    const summary = readFileSync(join(dir, '.strata', 'night-final.md'), 'utf8');
    expect(summary).toContain('Left out');
    expect(summary).toMatch(/this branch vs the baseline: \*\*\+0\.\d+/);

    // strata report draws the contributions chart: every change's row, the no-op marked not needed, the best and the final branch vs baseline.
    const report = await strataProcess(dir, ['report']);
    expect(report.code, report.stderr).toBe(0);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).toContain('Verified contributions');
    expect(html).toMatch(/<g class="contribution" data-seq="1" data-verdict="needed">/);
    expect(html).toMatch(/<g class="contribution" data-seq="2" data-verdict="not-needed">[\s\S]*?not needed<\/text>/);
    expect(html).toMatch(/<g class="contribution" data-seq="3" data-verdict="needed">/);
    expect(html).toMatch(/<g class="overall">[\s\S]*?best #3 vs baseline/);
    expect(html).toMatch(/<g class="final">[\s\S]*?final branch vs baseline/);
    expect(html).toContain('class="zero"');

    const ledger = Ledger.openForReading(ledgerPath);
    try {
      const night = ledger.studyByName('night')!;
      expect(night.state).toBe('done'); // the study's own ending survives the verify sessions
      const finalRuns = ledger.trials(night.id).filter((trial) => trial.role === 'verify' && trial.meta?.arm === 'final' && trial.status === 'discard');
      expect(finalRuns).toHaveLength(3);
      expect(finalRuns.every((trial) => trial.candidateCommit === gitIn(dir, 'rev-parse', 'strata/night-final'))).toBe(true);
    } finally {
      ledger.close();
    }
    const checked = Ledger.openForReading(ledgerPath);
    try {
      expect(checkLedger(checked).ok).toBe(true);
    } finally {
      checked.close();
    }
    expect(existsSync(join(dir, '.strata', 'worktrees', 'night', 'verify'))).toBe(false);
  }, 180_000);

  it('finalize without a verify says so and offers one; finalize --verify runs it and finalizes', async () => {
    const dir = study();
    expect((await strataProcess(dir, ['research'])).code).toBe(0);
    const run = await strataProcess(dir, ['finalize']);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('has no verify yet');
    expect(run.stderr).toContain('run `strata verify` first');
    expect(run.stderr).toContain('or `strata finalize --verify` to run one now');
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect((await strataProcess(dir, ['finalize', '--repeats', '2'])).stderr).toContain('--repeats goes with --verify');

    const offered = await strataProcess(dir, ['finalize', '--verify', '--repeats', '3']);
    expect(offered.code, offered.stderr + offered.stdout).toBe(0);
    expect(offered.stdout.split('\n')[0]).toMatch(/^verify night: 5 arms × 3 runs = 15 runs, 15 to run, about /);
    expect(offered.stdout).toMatch(/#2 .*not needed/);
    expect(offered.stdout).toMatch(/finalize: 2 arms × 3 runs to verify the final tree, 6 to run/);
    expect(gitIn(dir, 'log', '--format=%s', 'main..strata/night-final').split('\n')).toEqual(['turn on B', 'turn on A']);
  }, 120_000);

  it('an inverse diff that does not apply onto the best is reported as a conflict', async () => {
    const dir = makeRepo({ 'train.mjs': 'const lr = 1;\n' });
    const base = gitIn(dir, 'rev-parse', 'HEAD');
    execFileSync('sh', ['-c', "sed -i 's/lr = 1/lr = 2/' train.mjs && git commit -qam c1 && sed -i 's/lr = 2/lr = 3/' train.mjs && git commit -qam c2"], { cwd: dir, env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } });
    const c1 = gitIn(dir, 'rev-parse', 'HEAD~1');
    const c2 = gitIn(dir, 'rev-parse', 'HEAD');
    const repo = await StudyRepository.open(dir);
    const without = await applyPatchOnto(repo, c2, await changePatch(repo, base, c1), { reverse: true, message: 'without c1' });
    expect(without.conflict).toMatch(/patch does not apply|train\.mjs/);
  });
});
