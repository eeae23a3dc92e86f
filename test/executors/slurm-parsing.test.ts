import { describe, expect, it } from 'vitest';
import { baseState, isActiveState, parseMaxRssKb, parseSacctJob, parseScontrolJob } from '../../src/executors/slurm/job-state.ts';
import { jobScript, parseExitRecord, sbatchArguments, shellQuote, timeLimitMinutes } from '../../src/executors/slurm/job-script.ts';

describe('SLURM output parsing', () => {
  it('reads scontrol show job -o', () => {
    const line = 'JobId=42 JobName=strata-t-7 UserId=me(1) JobState=CANCELLED Reason=None Dependency=(null) Requeue=0 ExitCode=0:15 RunTime=00:00:03';
    expect(parseScontrolJob(line)).toEqual({ state: 'CANCELLED', exitCode: 0, signal: 15, reason: null });
    expect(parseScontrolJob('JobId=43 JobState=PENDING Reason=Resources ExitCode=0:0')).toMatchObject({ state: 'PENDING', reason: 'Resources' });
    expect(parseScontrolJob('slurm_load_jobs error: Invalid job id specified')).toBeNull();
  });

  it('reads sacct, states with flags, and MaxRSS', () => {
    expect(parseSacctJob('TIMEOUT|0:0\n')).toEqual({ state: 'TIMEOUT', exitCode: 0, signal: 0, reason: null });
    expect(parseSacctJob('')).toBeNull();
    expect(baseState('CANCELLED by 1000')).toBe('CANCELLED');
    expect(baseState('COMPLETED+')).toBe('COMPLETED');
    expect(isActiveState('RUNNING')).toBe(true);
    expect(isActiveState('COMPLETING')).toBe(true);
    expect(isActiveState('NODE_FAIL')).toBe(false);
    expect(parseMaxRssKb('2048K')).toBe(2048);
    expect(parseMaxRssKb('1.5G')).toBe(1572864);
    expect(parseMaxRssKb('')).toBeNull();
  });
});

describe('the job script and sbatch arguments', () => {
  it('enforces budget + grace with timeout, and writes an exit record with node-side times', () => {
    const script = jobScript({ cwd: "/shared/it's here", commandFile: '/shared/jobs/t.cmd.sh', budgetMs: 300_000, graceMs: 30_000, killAfterMs: 3000, statusDir: '/shared/jobs' });
    expect(script).toContain("timeout --signal=TERM --kill-after=3s 330s /bin/sh '/shared/jobs/t.cmd.sh'");
    expect(script).toContain(`cd '/shared/it'\\''s here'`);
    expect(script).toContain('"$SLURM_JOB_ID".status');
    expect(parseExitRecord('started 1000\nexit 3 4000\n')).toEqual({ startedMs: 1000, exitCode: 3, endedMs: 4000 });
    expect(parseExitRecord('started 1000\n')).toEqual({ startedMs: 1000, exitCode: null, endedMs: null });
    expect(shellQuote("a'b")).toBe(`'a'\\''b'`);
  });

  it('asks SLURM for budget + grace + margin in whole minutes, the GPUs, and the configured placement', () => {
    expect(timeLimitMinutes(300_000, 30_000, 120_000)).toBe(8);
    expect(timeLimitMinutes(1000, 500, 0)).toBe(1);
    const args = sbatchArguments({
      slurm: { partition: 'gpu', account: 'lab', qos: 'high', gpusPerTrial: 2, gpuType: 'a100', cpusPerTask: 8, mem: '32G', timeMarginMs: 120_000, pollIntervalMs: 5000, extraArgs: ['--constraint=ib'] },
      jobName: 'strata-s-3',
      logPath: '/shared/logs/3.log',
      cwd: '/shared/wt/slot-0',
      budgetMs: 300_000,
      graceMs: 30_000,
      scriptPath: '/shared/jobs/3.sbatch.sh',
    });
    expect(args).toEqual([
      '--parsable',
      '--job-name=strata-s-3',
      '--output=/shared/logs/3.log',
      '--open-mode=append',
      '--chdir=/shared/wt/slot-0',
      '--time=8',
      '--no-requeue',
      '--nodes=1',
      '--ntasks=1',
      '--gres=gpu:a100:2',
      '--partition=gpu',
      '--account=lab',
      '--qos=high',
      '--cpus-per-task=8',
      '--mem=32G',
      '--constraint=ib',
      '/shared/jobs/3.sbatch.sh',
    ]);
  });
});
