/**
 * A full disk under the trial logs: the run stops, the trial ends saying its
 * log could not be written and why, and the study pauses saying the disk is
 * full and where — never a log silently cut at 0 bytes, never "fix the
 * training script". Real tmpfs mounts (we are root in CI); where mount is
 * not permitted the tests are skipped with the reason, and in CI (CI=true)
 * that fails instead.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { SlurmConfig } from '../../src/core/config/executor-config.ts';
import { StrataError } from '../../src/core/errors.ts';
import { runProcess } from '../../src/executors/run-process.ts';
import { SlurmExecutor } from '../../src/executors/slurm/slurm-executor.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { makeRepo, quadraticConfig } from '../helpers/study-repo.ts';
import { strataProcess } from '../helpers/strata-process.ts';

const inCi = process.env.CI === 'true';
const mounted: string[] = [];

/** Mount a tmpfs of `size` at `dir`; the reason it could not, when it could not. */
function mountTmpfs(dir: string, size: string): string | undefined {
  mkdirSync(dir, { recursive: true });
  const result = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (result.status !== 0) return `mount -t tmpfs failed: ${(result.stderr || result.error?.message || '').trim()}`;
  mounted.push(dir);
  return undefined;
}

function unmount(dir: string): void {
  spawnSync('umount', ['-l', dir]);
  mounted.splice(mounted.indexOf(dir), 1);
}

afterAll(() => {
  for (const dir of [...mounted]) unmount(dir);
});

const probe = mkdtempSync(join(tmpdir(), 'strata-mount-probe-'));
const cannotMount = mountTmpfs(join(probe, 'm'), '16k');
if (!cannotMount) unmount(join(probe, 'm'));
rmSync(probe, { recursive: true, force: true });
if (cannotMount && !inCi) console.warn(`full-disk tests skipped: ${cannotMount} (they need root or CAP_SYS_ADMIN to mount a small tmpfs)`);

describe.runIf(cannotMount !== undefined && inCi)('full disk in CI', () => {
  it('can mount a tmpfs (CI runs as root)', () => {
    expect.fail(`CI=true requires the full-disk tests to run: ${cannotMount}`);
  });
});

/** A file that takes every free byte of the tmpfs at `dir`. */
function fill(dir: string): void {
  spawnSync('sh', ['-c', `cat /dev/zero > ${JSON.stringify(join(dir, 'filler'))}`]);
}

describe.runIf(cannotMount === undefined)('a full disk under the trial log (real tmpfs)', () => {
  it('runProcess: a disk already full stops the run at its first output and rejects naming the log, ENOSPC and the mount', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-full-'));
    const logs = join(dir, 'logs');
    expect(mountTmpfs(logs, '64k')).toBeUndefined();
    fill(logs);
    const pidFile = join(dir, 'pid');
    const running = runProcess({
      command: `echo $$ > ${pidFile}; echo "step 1"; sleep 30; echo never`,
      cwd: dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      budgetMs: 60_000,
      graceMs: 0,
      killAfterMs: 500,
      logPath: join(logs, 'trial', '0.log'),
    });
    const error = await running.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(StrataError);
    expect((error as StrataError).code).toBe('trial_log_failed');
    const message = (error as Error).message;
    expect(message).toContain(`the trial log ${join(logs, 'trial', '0.log')} could not be written`);
    expect(message).toContain('ENOSPC');
    expect(message).toContain(`the disk is full: the file system mounted at ${logs} (tmpfs)`);
    expect(message).not.toMatch(/training script/);
    // The run was stopped, not left to train for nothing.
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
    unmount(logs);
  });

  it('runProcess: a disk that fills during the run is noticed as it happens', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-full-'));
    const logs = join(dir, 'logs');
    expect(mountTmpfs(logs, '64k')).toBeUndefined();
    const error = await runProcess({
      command: 'i=0; while [ $i -lt 5000 ]; do echo "line $i of a chatty trainer ........................................"; i=$((i+1)); done; sleep 30',
      cwd: dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      budgetMs: 60_000,
      graceMs: 0,
      killAfterMs: 500,
      logPath: join(logs, '1.log'),
    }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect((error as StrataError | undefined)?.code).toBe('trial_log_failed');
    expect((error as Error).message).toMatch(/ENOSPC.*the disk is full/);
    unmount(logs);
  });

  it('strata research: the trial ends interrupted saying why, the study pauses naming the full disk; freed, the next run finishes', async () => {
    const trainer = `for (let i = 0; i < 3000; i++) console.log('step ' + i + ' loss is going down nicely ...............................');\nconsole.log('METRIC loss=1');\n`;
    const repo = makeRepo({ 'train.mjs': trainer, 'strata.yaml': quadraticConfig({ maxTrials: 2 }) });
    const logs = join(repo, '.strata', 'logs');
    expect(mountTmpfs(logs, '64k')).toBeUndefined();
    const first = await strataProcess(repo, ['research']);
    expect(first.code, first.stdout + first.stderr).toBe(1);
    expect(first.stderr).not.toMatch(/\n +at |unexpected error/);
    expect(first.stderr).toMatch(/could not be written: no space left on device \(ENOSPC\)/);
    expect(first.stderr).toContain(`the file system mounted at ${logs}`);
    const ledger = Ledger.open(join(repo, '.strata', 'ledger.db'));
    const study = ledger.studyByName('quad')!;
    const trials = ledger.trials(study.id);
    ledger.close();
    expect(study.state).toBe('paused');
    expect(study.stopReason).toMatch(/the disk is full: the file system mounted at .*\.strata\/logs \(tmpfs\)/);
    expect(study.stopReason).not.toMatch(/training script/);
    expect(trials[0]).toMatchObject({ status: 'interrupted' });
    expect(trials[0]!.statusReason).toMatch(/the trial log .*0\.log could not be written: no space left on device/);

    unmount(logs);
    const again = await strataProcess(repo, ['research']);
    expect(again.code, again.stderr).toBe(0);
    const after = Ledger.open(join(repo, '.strata', 'ledger.db'));
    expect(after.studyByName('quad')!.state).toBe('done');
    after.close();
  });
});

const slurmUp = spawnSync('sinfo', ['-h', '-o', '%t'], { encoding: 'utf8' }).status === 0;
const slurm: SlurmConfig = { gpusPerTrial: 0, timeMarginMs: 60_000, pollIntervalMs: 200, extraArgs: [] };

describe.runIf(cannotMount === undefined && slurmUp)('a full disk under a SLURM job log (real SLURM, real tmpfs)', () => {
  it('the job log cut short by a full disk is noticed: the run rejects naming the log and the mount', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-slurm-full-'));
    const logs = join(dir, 'logs');
    expect(mountTmpfs(logs, '64k')).toBeUndefined();
    const executor = new SlurmExecutor({ slurm, jobDir: join(dir, 'jobs'), jobNamePrefix: 'strata-full' });
    const error = await executor
      .run({
        trialId: 1,
        command: 'i=0; while [ $i -lt 5000 ]; do echo "line $i of a chatty trainer ........................................"; i=$((i+1)); done; echo "METRIC loss=1"',
        cwd: dir,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir },
        budgetMs: 30_000,
        graceMs: 1000,
        logPath: join(logs, '1.log'),
      })
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );
    expect((error as StrataError | undefined)?.code, String(error)).toBe('trial_log_failed');
    expect((error as Error).message).toContain(`the trial log ${join(logs, '1.log')}`);
    expect((error as Error).message).toContain(`the file system mounted at ${logs} (tmpfs)`);
    unmount(logs);
  }, 60_000);
});
