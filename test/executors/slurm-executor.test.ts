/**
 * The SLURM executor against a real SLURM (scripts/slurm-localhost.sh starts a
 * single-node one with four fake GPUs). Without sbatch these tests are skipped
 * with a message; in CI (CI=true) a missing SLURM fails them instead.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SlurmConfig } from '../../src/core/config/executor-config.ts';
import type { ExecutionRequest } from '../../src/core/executor.ts';
import { SlurmExecutor } from '../../src/executors/slurm/slurm-executor.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import type { TrialRecord } from '../../src/ledger/records.ts';
import { runResearch } from '../../src/research/run-research.ts';
import { sqlRowOnceCreated } from '../helpers/ledger-sql.ts';
import { config, gitIn, makeRepo } from '../helpers/study-repo.ts';

const slurmUp = spawnSync('sinfo', ['-h', '-o', '%t'], { encoding: 'utf8' }).status === 0;
const inCi = process.env.CI === 'true';
if (!slurmUp && !inCi) {
  console.warn('SLURM tests skipped: no working sbatch/sinfo here. Start a local one with `sudo scripts/slurm-localhost.sh start` (needs: apt-get install slurmctld slurmd munge slurm-client).');
}
const BIN = resolve(import.meta.dirname, '../../bin/strata.js');

const slurm: SlurmConfig = { gpusPerTrial: 1, timeMarginMs: 60_000, pollIntervalMs: 300, extraArgs: [] };

function request(dir: string, command: string, overrides: Partial<ExecutionRequest> = {}): ExecutionRequest {
  return {
    trialId: Math.floor(Math.random() * 1e6),
    command,
    cwd: dir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir },
    budgetMs: 20_000,
    graceMs: 1000,
    logPath: join(dir, 'logs', `${Math.random().toString(36).slice(2)}.log`),
    ...overrides,
  };
}

function jobState(jobId: string): string {
  const shown = spawnSync('scontrol', ['show', 'job', '-o', jobId], { encoding: 'utf8' }).stdout;
  return /JobState=(\S+)/.exec(shown)?.[1] ?? 'UNKNOWN';
}

const maxOverlap = (trials: readonly TrialRecord[]) => {
  const edges = trials.flatMap((t) => [[Date.parse(t.startedAt!), 1] as const, [Date.parse(t.endedAt!), -1] as const]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let max = 0;
  for (const [, step] of edges) max = Math.max(max, (now += step));
  return max;
};

describe.runIf(!slurmUp && inCi)('SLURM in CI', () => {
  it('is running (CI must start it: scripts/slurm-localhost.sh start)', () => {
    expect.fail('sinfo failed: CI=true requires a running SLURM; run `scripts/slurm-localhost.sh start` after installing slurmctld slurmd munge slurm-client');
  });
});

describe.runIf(slurmUp)('the SLURM executor (real SLURM)', () => {
  it('submits with sbatch, streams the log, reports the job id and the exit code, and pins the job to a GPU', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-slurm-'));
    const executor = new SlurmExecutor({ slurm, jobDir: join(dir, 'jobs'), jobNamePrefix: 'strata-test' });
    const ids: string[] = [];
    let streamed = '';
    const result = await executor.run(
      request(dir, 'echo "gpu=$CUDA_VISIBLE_DEVICES trial=$STRATA_TRIAL"; echo "METRIC loss=1.5"; exit 3', {
        env: { PATH: process.env.PATH!, HOME: dir, STRATA_TRIAL: '7' },
        onExternalId: (id) => ids.push(id),
        onOutput: (chunk) => (streamed += chunk),
      }),
    );
    expect(ids).toHaveLength(1);
    expect(ids[0]).toMatch(/^\d+$/);
    expect(result).toMatchObject({ status: 'exited', exitCode: 3 });
    expect(result.output).toContain('METRIC loss=1.5');
    expect(result.output).toMatch(/gpu=\d trial=7/);
    expect(streamed).toContain('METRIC loss=1.5');
    expect(result.wallMs).toBeGreaterThanOrEqual(0);
    expect(jobState(ids[0]!)).toBe('FAILED');
  }, 60_000);

  it('enforces the exact budget inside the job: a hanging command ends as timeout after budget + grace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-slurm-'));
    const executor = new SlurmExecutor({ slurm, jobDir: join(dir, 'jobs'), jobNamePrefix: 'strata-test', killAfterMs: 1000 });
    const started = Date.now();
    const result = await executor.run(request(dir, "trap '' TERM; echo started; sleep 120", { budgetMs: 1500, graceMs: 500 }));
    expect(result.status).toBe('timeout');
    expect(result.output).toContain('started');
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 60_000);

  it('cancels the job with scancel on abort: the run ends interrupted and SLURM shows it cancelled', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-slurm-'));
    const executor = new SlurmExecutor({ slurm, jobDir: join(dir, 'jobs'), jobNamePrefix: 'strata-test' });
    const controller = new AbortController();
    let jobId = '';
    const running = executor.run(
      request(dir, 'echo up; sleep 120', {
        signal: controller.signal,
        onExternalId: (id) => (jobId = id),
        onOutput: (chunk) => (chunk.includes('up') ? controller.abort() : undefined),
      }),
    );
    const result = await running;
    expect(result.status).toBe('interrupted');
    expect(jobState(jobId)).toBe('CANCELLED');
  }, 60_000);

  it('resubmits once after NODE_FAIL (the node was set down under the job), then reports the second run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-slurm-'));
    const executor = new SlurmExecutor({ slurm, jobDir: join(dir, 'jobs'), jobNamePrefix: 'strata-test' });
    const ids: string[] = [];
    const marker = join(dir, 'second-run');
    // The first run waits to be killed; the second (the marker exists by then) ends at once.
    const command = `if [ -e ${marker} ]; then echo "METRIC loss=2"; exit 0; fi; touch ${marker}; echo first; sleep 120`;
    const node = spawnSync('sinfo', ['-h', '-N', '-o', '%N'], { encoding: 'utf8' }).stdout.trim().split('\n')[0]!;
    const result = await executor.run(
      request(dir, command, {
        onExternalId: (id) => ids.push(id),
        onOutput: (chunk) => {
          if (!chunk.includes('first')) return;
          spawnSync('scontrol', ['update', `nodename=${node}`, 'state=down', 'reason=strata-node-fail-test']);
          spawnSync('scontrol', ['update', `nodename=${node}`, 'state=resume']);
        },
      }),
    );
    spawnSync('scontrol', ['update', `nodename=${node}`, 'state=resume']);
    expect(ids).toHaveLength(2);
    expect(jobState(ids[0]!)).toBe('NODE_FAIL');
    expect(result).toMatchObject({ status: 'exited', exitCode: 0 });
    expect(result.output).toContain('submitting it once more');
    expect(result.output).toContain('METRIC loss=2');
  }, 90_000);

  it('runs a study on SLURM from a shared folder: one job per fake GPU, job ids in the ledger, keeps on the branch', async () => {
    const shared = mkdtempSync(join(tmpdir(), 'strata-shared-'));
    const text = `name: slurm-quad
research:
  editable: [x.txt]
  run: 'x=$(sed -n "s/.*\\"x\\": *\\([0-9]*\\).*/\\1/p" strata.params.json 2>/dev/null); x=\${x:-9}; sleep 1; echo "gpu=$CUDA_VISIBLE_DEVICES x=$x"; echo "METRIC loss=$((x * x))"'
  budget: 30s
  metric: {name: loss, goal: minimize}
  params: {x: {type: int, low: 0, high: 8}}
  search: {sampler: random, seed: 1}
  max_trials: 9
  acceptance: {rule: strict}
  executor:
    kind: slurm
    slots: 5
    shared_dir: ${shared}
    slurm: {gpus_per_trial: 1, poll_interval: 0.3s, time_margin: 1m}
`;
    const repo = makeRepo({ 'x.txt': 'unused\n', 'strata.yaml': text });
    const summary = await runResearch({ configPath: join(repo, 'strata.yaml'), config: config(text) });
    expect(summary.study.state).toBe('done');
    const ledger = Ledger.open(join(repo, '.strata', 'ledger.db'));
    const trials = ledger.trials(1);
    ledger.close();
    expect(trials.filter((t) => t.executor === 'slurm' && /^\d+$/.test(t.externalId ?? ''))).toHaveLength(9);
    expect(trials.every((t) => t.logPath!.startsWith(join(shared, 'slurm-quad', 'logs')))).toBe(true);
    // Five slots but four GPUs: SLURM never runs more than four at once.
    const ran = trials.filter((t) => t.startedAt && t.endedAt);
    for (const trial of ran) expect(readFileSync(trial.logPath!, 'utf8')).toMatch(/gpu=[0-3]/);
    expect(summary.scheduling).toMatchObject({ executor: 'slurm', slots: 5 });
    const best = trials.find((t) => t.status === 'keep' && t.metric === summary.best!.metric)!;
    expect(summary.best!.metric!).toBeLessThan(81);
    expect(JSON.parse(gitIn(repo, 'show', 'strata/slurm-quad:strata.params.json')).x).toBe(best.params!.x);
    expect(existsSync(join(shared, 'slurm-quad', 'worktrees'))).toBe(false);
    // What really ran when (the jobs' own exit records), and on which GPU: never two jobs on one GPU, never more than four at once.
    const jobs = ran.map((t) => {
      const record = readFileSync(join(shared, 'slurm-quad', 'logs', 'slurm', `${t.externalId}.status`), 'utf8');
      const start = Number(/started (\d+)/.exec(record)![1]);
      const end = Number(/exit \d+ (\d+)/.exec(record)![1]);
      return { start, end, gpu: /gpu=(\d)/.exec(readFileSync(t.logPath!, 'utf8'))![1] };
    });
    for (const a of jobs) for (const b of jobs) if (a !== b && a.gpu === b.gpu) expect(a.end <= b.start || b.end <= a.start).toBe(true);
    const atOnce = Math.max(...jobs.map((a) => jobs.filter((b) => b.start <= a.start && a.start < b.end).length));
    expect(atOnce).toBeLessThanOrEqual(4);
    expect(atOnce).toBeGreaterThanOrEqual(2);
  }, 120_000);

  it('re-attaches after kill -9 of the orchestrator: the running job is followed to its end, not submitted again', async () => {
    const shared = mkdtempSync(join(tmpdir(), 'strata-shared-'));
    const text = `name: reattach
research:
  editable: [x.txt]
  run: 'x=$(cat x.txt); sleep 4; echo "METRIC loss=$x"'
  budget: 30s
  metric: {name: loss, goal: minimize}
  params: {x: {type: int, low: 0, high: 9}}
  search: {sampler: random, seed: 3}
  max_trials: 1
  acceptance: {rule: strict}
  executor: {kind: slurm, shared_dir: ${JSON.stringify(shared)}, slurm: {gpus_per_trial: 1, poll_interval: 0.3s}}
`;
    const repo = makeRepo({ 'x.txt': '5\n', 'strata.yaml': text });
    const child = spawn(process.execPath, [BIN, 'research'], { cwd: repo, stdio: 'ignore' });
    const ledgerPath = join(repo, '.strata', 'ledger.db');
    let jobId: string | null = null;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && jobId === null) {
      await new Promise((r) => setTimeout(r, 100));
      if (!existsSync(ledgerPath)) continue;
      const row = sqlRowOnceCreated(ledgerPath, "SELECT external_id FROM trials WHERE status = 'running' AND external_id IS NOT NULL") as { external_id: string } | undefined;
      jobId = row?.external_id ?? null;
    }
    expect(jobId).not.toBeNull();
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(['PENDING', 'RUNNING']).toContain(jobState(jobId!));

    const again = spawnSync(process.execPath, [BIN, 'research'], { cwd: repo, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 });
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/re-attached: trial 0/);
    const ledger = Ledger.open(ledgerPath);
    const trials = ledger.trials(1);
    ledger.close();
    expect(trials).toHaveLength(1);
    expect(trials[0]).toMatchObject({ status: 'keep', metric: 5, externalId: jobId, attempt: 1 });
    expect(jobState(jobId!)).toBe('COMPLETED');
  }, 120_000);
});
