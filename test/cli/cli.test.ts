import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Ledger } from '../../src/ledger/ledger.ts';
import { sqlRowOnceCreated } from '../helpers/ledger-sql.ts';
import { gitIn, makeRepo, quadraticConfig, quadraticTrainer } from '../helpers/study-repo.ts';

const BIN = resolve(import.meta.dirname, '../../bin/strata.js');
const strata = (cwd: string, ...args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 });

describe('strata CLI', () => {
  it('reports every config problem at once with dot paths and exits non-zero before touching git', () => {
    const bad = `name: Bad Name
research:
  editable: [train.mjs]
  run: node train.mjs
  budget: fast
  budgett: 20s
  metric: {name: loss, goal: minimise}
  params: {x: {type: float, low: 1, high: 0}}
`;
    const repo = makeRepo({ 'train.mjs': quadraticTrainer(), 'strata.yaml': bad });
    const result = strata(repo, 'research');
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('research.budget: expected a duration like 300s or 5m, got "fast"');
    expect(result.stderr).toContain('research.budgett: unknown key (did you mean "budget"?)');
    expect(result.stderr).toContain('research.metric.goal');
    expect(result.stderr).toContain('name:');
    expect(gitIn(repo, 'branch', '--list', 'strata/*')).toBe('');
    expect(existsSync(join(repo, '.strata'))).toBe(false);
  });

  it('runs a study, then status --json and export tsv/jsonl describe it', () => {
    const repo = makeRepo({ 'train.mjs': quadraticTrainer(), 'strata.yaml': quadraticConfig({ maxTrials: 4 }) });
    const run = strata(repo, 'research');
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('strata research · quad');
    expect(run.stdout).toMatch(/#0 +keep +4\.50000/);
    expect(run.stdout).toContain('4 runs:');

    const status = JSON.parse(strata(repo, 'status', '--json').stdout);
    expect(Object.keys(status)).toEqual(expect.arrayContaining(['study', 'best', 'baseline', 'trials', 'running']));
    expect(status.trials).toHaveLength(4);
    expect(status.trials[0]).toMatchObject({ status: 'keep', metric: 4.5, proposer: 'baseline', commit: expect.any(String) });
    expect(status.trials[0]).toHaveProperty('duration_s');
    expect(status.best.commit).toBe(gitIn(repo, 'rev-parse', 'strata/quad'));
    expect(status.running).toEqual([]);

    const table = strata(repo, 'status').stdout;
    expect(table).toMatch(/trial +status +loss +delta/);

    const tsv = strata(repo, 'export', '--format', 'tsv').stdout.trim().split('\n');
    expect(tsv[0]).toBe('commit\tloss\tmemory_gb\tstatus\tdescription\ttrial\tduration_s');
    expect(tsv).toHaveLength(5);
    expect(tsv[1]!.split('\t')).toEqual([expect.stringMatching(/^[0-9a-f]{7}$/), '4.500000', expect.any(String), 'keep', 'baseline (unmodified)', '0', expect.any(String)]);
    const jsonl = strata(repo, 'export', '--format', 'jsonl').stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(jsonl).toHaveLength(4);
    expect(jsonl[1]).toHaveProperty('diff');
  });

  it('recovers from kill -9 of the orchestrator mid-trial: interrupted, re-queued, nothing lost or duplicated', async () => {
    const text = quadraticConfig({ maxTrials: 4, extra: '  env: {SLEEP_MS: "1500"}\n' });
    const repo = makeRepo({ 'train.mjs': quadraticTrainer(), 'strata.yaml': text });
    const child = spawn(process.execPath, [BIN, 'research'], { cwd: repo, stdio: 'ignore' });
    const ledgerPath = join(repo, '.strata', 'ledger.db');
    // wait until trial #1 is running (the baseline has finished), then kill -9
    const deadline = Date.now() + 60_000;
    let killedDuring: number | undefined;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      if (!existsSync(ledgerPath)) continue;
      const running = sqlRowOnceCreated(ledgerPath, "SELECT seq FROM trials WHERE status = 'running' AND seq >= 1") as { seq: number } | undefined;
      if (running) {
        killedDuring = running.seq;
        child.kill('SIGKILL');
        break;
      }
    }
    expect(killedDuring).toBe(1);
    await new Promise((r) => child.once('exit', r));
    expect(readdirSync(join(repo, '.strata', 'worktrees', 'quad'))).not.toHaveLength(0);

    const again = strata(repo, 'research');
    expect(again.status, again.stderr).toBe(0);
    // Trial 1 was running; a proposal made ahead of it (speculation, the default on one slot) may have been cut short too.
    expect(again.stdout).toMatch(/recovered: trial 1(, 2)? interrupted/);
    const ledger = Ledger.open(ledgerPath);
    const trials = ledger.trials(1);
    ledger.close();
    const one = trials.find((t) => t.seq === 1)!;
    expect(one.status).toBe('interrupted');
    // The new attempt is linked as a retry of the interrupted one (related_trial_id says what a trial measures or derives from),
    // runs the same commit, and is the only other run of it.
    const retry = trials.find((t) => t.retryOf === one.id)!;
    expect(retry.status).not.toBe('interrupted');
    expect(retry.candidateCommit).toBe(one.candidateCommit);
    expect(trials.filter((t) => t.candidateCommit === one.candidateCommit && t.status !== 'interrupted')).toHaveLength(1);
    expect(trials.filter((t) => t.status === 'queued' || t.status === 'running')).toEqual([]);
    expect(trials.filter((t) => t.status !== 'interrupted' && t.role === 'candidate')).toHaveLength(3);
    expect(trials.filter((t) => t.role === 'baseline')).toHaveLength(1);
    expect(existsSync(join(repo, '.strata', 'worktrees', 'quad'))).toBe(false);
    expect(gitIn(repo, 'worktree', 'list').split('\n')).toHaveLength(1);
  });

  it('init writes a commented config for the folder and refuses to overwrite without --force', () => {
    const repo = makeRepo({ 'train.py': 'print(1)\n', 'prepare.py': '', 'data/a.txt': 'x' });
    const first = strata(repo, 'init');
    expect(first.status, first.stderr).toBe(0);
    const second = strata(repo, 'init');
    expect(second.status).toBe(1);
    expect(second.stderr).toContain('--force');
    writeFileSync(join(repo, 'extra.txt'), '');
    expect(strata(repo, 'init', '--force').status).toBe(0);
  });
});
