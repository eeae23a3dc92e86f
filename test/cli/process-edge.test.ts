/**
 * The process edge (src/cli/run.ts): a stdout that closes early (`strata
 * research | head`) ends any command quietly, a long-running study paused as
 * on a stop; a stop by signal exits 130. Real processes, real pipes.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Ledger } from '../../src/ledger/ledger.ts';
import { makeRepo, quadraticConfig, quadraticTrainer } from '../helpers/study-repo.ts';
import { STRATA_BIN, strataProcess, until } from '../helpers/strata-process.ts';

interface ClosedRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Run strata with a stdout whose reading end is closed: at once (`after: 0`),
 * or once `after` bytes arrived (what `head -c` does). With `closeStderr`
 * stderr is closed at once too (`2>&1 | head`).
 */
function withClosedStdout(cwd: string, args: string[], options: { after?: number; closeStderr?: boolean } = {}): Promise<ClosedRun> {
  const child = spawn(process.execPath, [STRATA_BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const after = options.after ?? 0;
  if (after === 0) child.stdout.destroy();
  else {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.length >= after) child.stdout.destroy();
    });
  }
  if (options.closeStderr) child.stderr.destroy();
  else child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

function study(repo: string) {
  const ledger = Ledger.open(join(repo, '.strata', 'ledger.db'));
  try {
    const record = ledger.studyByName('quad')!;
    return { state: record.state, stopReason: record.stopReason, ownerPid: record.ownerPid, trials: ledger.trials(record.id) };
  } finally {
    ledger.close();
  }
}

const NO_STACK = /Error: write EPIPE|Unhandled 'error'|unexpected error|\n +at /;

describe('a stdout that closes early', () => {
  it('strata research | head: ends quietly, the study paused as on a stop; the next run finishes it, nothing lost or run twice', async () => {
    const repo = makeRepo({ 'train.mjs': quadraticTrainer(300), 'strata.yaml': quadraticConfig({ maxTrials: 5 }) });
    const first = await withClosedStdout(repo, ['research'], { after: 1 });
    expect(first.signal).toBeNull();
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).not.toMatch(NO_STACK);
    expect(first.stderr).toContain('stdout was closed');
    const paused = study(repo);
    expect(paused.state).toBe('paused');
    expect(paused.stopReason).toContain('run again to resume');
    expect(paused.ownerPid).toBeNull();

    const again = await strataProcess(repo, ['research']);
    expect(again.code, again.stderr).toBe(0);
    const done = study(repo);
    expect(done.state).toBe('done');
    const finished = done.trials.filter((trial) => trial.status !== 'interrupted');
    expect(finished).toHaveLength(5);
    expect(new Set(done.trials.map((trial) => trial.seq)).size).toBe(done.trials.length);
  });

  it('status, export (tsv, jsonl) and --help: exit 0 with nothing on stderr', async () => {
    const repo = makeRepo({ 'train.mjs': quadraticTrainer(), 'strata.yaml': quadraticConfig({ maxTrials: 3 }) });
    expect((await strataProcess(repo, ['research'])).code).toBe(0);
    for (const args of [['status'], ['status', '--json'], ['export', '--format', 'tsv'], ['export', '--format', 'jsonl'], ['--help'], ['research', '--help']]) {
      const run = await withClosedStdout(repo, args);
      expect({ args, code: run.code, signal: run.signal, stderr: run.stderr }).toEqual({ args, code: 0, signal: null, stderr: '' });
    }
    expect(study(repo).state).toBe('done');
  });

  it('stdout and stderr both closed (2>&1 | head): no crash, the study is left resumable', async () => {
    const repo = makeRepo({ 'train.mjs': quadraticTrainer(300), 'strata.yaml': quadraticConfig({ maxTrials: 4 }) });
    const run = await withClosedStdout(repo, ['research'], { closeStderr: true });
    expect(run.signal).toBeNull();
    expect(run.code).toBe(0);
    expect(study(repo)).toMatchObject({ state: 'paused', ownerPid: null });
    expect((await strataProcess(repo, ['research'])).code).toBe(0);
    expect(study(repo).state).toBe('done');
  });
});

describe('a stop by signal', () => {
  // README, Stopping and resuming: "Ctrl-C (or SIGTERM) stops gracefully: the running trial is killed, its worktree cleaned, the study paused, exit code 130."
  for (const [signal, name] of [['SIGINT', 'Ctrl-C'], ['SIGTERM', 'SIGTERM']] as const) {
    it(`strata research, ${name} during a trial: exit 130, the study paused, the trial interrupted and its worktree cleaned, one line on stderr`, async () => {
      // The trial leaves a file in its worktree before it is stopped.
      const trainer = `import { writeFileSync } from 'node:fs';\nwriteFileSync('scratch.tmp', 'half a checkpoint');\n${quadraticTrainer(5000)}`;
      const repo = makeRepo({ 'train.mjs': trainer, 'strata.yaml': quadraticConfig({ maxTrials: 3 }) });
      const ledgerPath = join(repo, '.strata', 'ledger.db');
      let worktree = '';
      const run = await strataProcess(repo, ['research'], {
        during: async (child) => {
          await until(() => {
            try {
              const running = existsSync(ledgerPath) ? study(repo).trials.find((trial) => trial.status === 'running' && trial.worktree !== null) : undefined;
              worktree = running?.worktree ?? '';
              return running !== undefined && existsSync(join(worktree, 'scratch.tmp'));
            } catch {
              return false; // the study is not in the ledger yet
            }
          }, 'the baseline trial to run');
          child.kill(signal);
        },
      });
      expect(run.code, run.stderr).toBe(130);
      expect(run.stderr).not.toMatch(NO_STACK);
      expect(study(repo)).toMatchObject({ state: 'paused', stopReason: 'stopped by the user; run again to resume', ownerPid: null });
      expect(study(repo).trials.map((trial) => trial.status)).toEqual(['interrupted']);
      expect(existsSync(join(worktree, 'scratch.tmp')), `${worktree} still holds what the stopped trial wrote`).toBe(false);
    });
  }
});
