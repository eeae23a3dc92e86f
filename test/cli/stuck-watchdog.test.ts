/**
 * The process never exits silently (issue 12: a study killed during its
 * baseline repeats made every later run exit 13 with "Detected unsettled
 * top-level await", having run nothing). A command whose event loop runs dry
 * while it is unfinished is a bug, and the process edge names the state it
 * stuck in and exits 70; the ledger is left resumable. The stuck state is
 * made with STRATA_CHAOS_KILL=<phase>:<n>:stall (src/study/chaos-point.ts): at
 * that phase the orchestrator waits on a promise nothing settles.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Ledger } from '../../src/ledger/ledger.ts';
import { makeRepo, quadraticConfig, quadraticTrainer } from '../helpers/study-repo.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'strata.js');
const strata = (cwd: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', STRATA_CHAOS_KILL: '', ...env }, timeout: 60_000 });

describe('a command left with nothing to wait on', () => {
  it('names the state it stuck in and exits 70, never 13; the next run resumes the study to its end', () => {
    const repo = makeRepo({ 'train.mjs': quadraticTrainer(), 'strata.yaml': quadraticConfig({ maxTrials: 3 }) });
    // The second proposal (the first candidate's) never settles.
    const stuck = strata(repo, ['research'], { STRATA_CHAOS_KILL: 'proposing:2:stall' });
    expect(stuck.signal).toBeNull();
    expect(stuck.status, stuck.stderr).toBe(70);
    expect(stuck.stderr).not.toMatch(/unsettled top-level await/);
    expect(stuck.stderr).not.toMatch(/^\s+at /m);
    const lines = stuck.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^strata: internal error: nothing left to wait on while scheduling study quad \(.*1 proposals in flight\); the ledger is intact and the study resumes when you run the command again/);

    const resumed = strata(repo, ['research']);
    expect(resumed.status, resumed.stderr).toBe(0);
    const ledger = Ledger.open(join(repo, '.strata', 'ledger.db'));
    try {
      const study = ledger.studyByName('quad')!;
      expect(study.state).toBe('done');
      expect(ledger.trials(study.id).filter((trial) => trial.status === 'running' || trial.status === 'queued')).toEqual([]);
    } finally {
      ledger.close();
    }
  }, 120_000);
});
