import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Proposer } from '../../src/core/proposer.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { checkLedger } from '../../src/ledger/ledger-check.ts';
import { runResearch } from '../../src/research/run-research.ts';
import { sqlRun } from '../helpers/ledger-sql.ts';
import { config, gitIn, makeRepo, quadraticConfig, quadraticTrainer } from '../helpers/study-repo.ts';

/** A proposer that rewrites train.mjs with a scripted body per proposal. */
function scriptedProposer(bodies: { description: string; files: Record<string, string> }[]): Proposer {
  let next = 0;
  return {
    name: 'scripted',
    async propose(context) {
      const step = bodies[next++ % bodies.length]!;
      for (const [path, content] of Object.entries(step.files)) writeFileSync(join(context.projectDir, path), content);
      return { description: step.description };
    },
  };
}

const opened: Ledger[] = [];
afterEach(() => {
  for (const ledger of opened.splice(0)) ledger.close();
});
function ledgerOf(repo: string): Ledger {
  const ledger = Ledger.open(join(repo, '.strata', 'ledger.db'));
  opened.push(ledger);
  return ledger;
}

describe('the research loop', () => {
  it('runs a baseline then search candidates, keeps improvements on strata/<name>, and leaves the checkout alone', async () => {
    const repo = makeRepo({ 'train.mjs': quadraticTrainer(), 'strata.yaml': quadraticConfig({ maxTrials: 6 }), 'data/x.txt': 'data' });
    const headBefore = gitIn(repo, 'rev-parse', 'HEAD');
    const summary = await runResearch({ configPath: join(repo, 'strata.yaml'), config: config(quadraticConfig({ maxTrials: 6 })) });

    expect(summary.trials).toHaveLength(6);
    expect(summary.trials[0]).toMatchObject({ seq: 0, status: 'keep', metric: 4.5, proposer: 'baseline' });
    expect(summary.study.state).toBe('done');
    expect(summary.best!.metric!).toBeLessThanOrEqual(4.5);
    // every proposal is a distinct parameter set
    const ledger = ledgerOf(repo);
    const keys = ledger.trials(1).map((t) => t.paramsKey).filter(Boolean);
    expect(new Set(keys).size).toBe(keys.length);

    // the user's checkout is untouched: same HEAD, same branch, clean tree
    expect(gitIn(repo, 'rev-parse', 'HEAD')).toBe(headBefore);
    expect(gitIn(repo, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('main');
    expect(gitIn(repo, 'status', '--porcelain')).toBe('');
    expect(existsSync(join(repo, 'strata.params.json'))).toBe(false);

    // kept trials are commits on the study branch with trailers, newest first
    const kept = summary.trials.filter((t) => t.status === 'keep' && t.seq > 0);
    const log = gitIn(repo, 'log', '--format=%H %s', `strata/quad`).split('\n');
    expect(log).toHaveLength(kept.length + 1);
    if (kept.length > 0) {
      const last = kept.at(-1)!;
      expect(gitIn(repo, 'rev-parse', 'strata/quad')).toBe(last.commit);
      const message = gitIn(repo, 'log', '-1', '--format=%B', 'strata/quad');
      expect(message).toContain(`Strata-Trial: ${last.seq}`);
      expect(message).toMatch(/Strata-Metric: loss=/);
      expect(gitIn(repo, 'show', 'strata/quad:strata.params.json')).toContain('"x"');
    }
    // discarded trials keep their diff in the ledger, and no worktree is left behind
    const discarded = ledger.trials(1).filter((t) => t.status === 'discard');
    for (const trial of discarded) expect(trial.diff).toContain('strata.params.json');
    expect(existsSync(join(repo, '.strata', 'worktrees', 'quad'))).toBe(false);
    expect(gitIn(repo, 'worktree', 'list').split('\n')).toHaveLength(1);
    // logs are kept per trial
    expect(readFileSync(ledger.trials(1)[0]!.logPath!, 'utf8')).toContain('METRIC loss=4.5');
  });

  it('can rebuild every state table from the append-only event log', async () => {
    const repo = makeRepo({ 'train.mjs': quadraticTrainer(), 'strata.yaml': quadraticConfig({ maxTrials: 4 }) });
    await runResearch({ configPath: join(repo, 'strata.yaml'), config: config(quadraticConfig({ maxTrials: 4 })) });
    const ledger = ledgerOf(repo);
    const check = checkLedger(ledger);
    expect(check.differences).toEqual([]);
    expect(check).toMatchObject({ ok: true, rows: { studies: 1, trials: 4 } });
    expect(() => sqlRun(ledger, 'DELETE FROM events')).toThrow(/append-only/);
  });

  it('gives each outcome its status: crash with log tail, no metric, NaN, timeout, and invalid for files outside editable', async () => {
    const body = (code: string) => `${code}\n`;
    const proposer = scriptedProposer([
      { description: 'crash', files: { 'train.mjs': body("console.log('step 1'); throw new Error('boom in training')") } },
      { description: 'no metric', files: { 'train.mjs': body("console.log('done, forgot the metric')") } },
      { description: 'nan', files: { 'train.mjs': body("console.log('METRIC loss=nan')") } },
      { description: 'hang', files: { 'train.mjs': body("setInterval(() => {}, 1000); process.on('SIGTERM', () => {})") } },
      { description: 'edit the data', files: { 'train.mjs': body("console.log('METRIC loss=0.1')"), 'data/x.txt': 'poisoned' } },
      { description: 'better', files: { 'train.mjs': body("console.log('METRIC loss=1.25')") } },
    ]);
    const text = quadraticConfig({ maxTrials: 7, budget: '1s', extra: '  grace: 0.5s\n' }).replace('proposer: search', '');
    const repo = makeRepo({ 'train.mjs': quadraticTrainer(), 'strata.yaml': text, 'data/x.txt': 'data' });
    const summary = await runResearch({ configPath: join(repo, 'strata.yaml'), config: config(text), proposer });
    const statuses = summary.trials.map((t) => [t.description, t.status]);
    expect(statuses).toEqual([
      ['baseline (unmodified)', 'keep'],
      ['crash', 'crash'],
      ['no metric', 'crash'],
      ['nan', 'crash'],
      ['hang', 'timeout'],
      ['edit the data', 'invalid'],
      ['better', 'keep'],
    ]);
    const ledger = ledgerOf(repo);
    const trials = ledger.trials(1);
    expect(trials[1]!.logTail).toContain('boom in training');
    expect(trials[1]!.statusReason).toMatch(/exit code 1/);
    expect(trials[2]!.statusReason).toMatch(/no metric/);
    expect(trials[3]!.statusReason).toMatch(/NaN/);
    expect(trials[5]!.statusReason).toBe('changed files outside research.editable: data/x.txt');
    expect(trials[5]!.diff).toContain('poisoned');
    expect(gitIn(repo, 'show', 'strata/quad:data/x.txt')).toBe('data');
  });

  it('resumes a finished study when max_trials grows, continuing the sequence', async () => {
    const repo = makeRepo({ 'train.mjs': quadraticTrainer(), 'strata.yaml': quadraticConfig({ maxTrials: 3 }) });
    await runResearch({ configPath: join(repo, 'strata.yaml'), config: config(quadraticConfig({ maxTrials: 3 })) });
    const again = await runResearch({ configPath: join(repo, 'strata.yaml'), config: config(quadraticConfig({ maxTrials: 5 })) });
    expect(again.trials.map((t) => t.seq)).toEqual([0, 1, 2, 3, 4]);
    expect(again.trials.filter((t) => t.proposer === 'baseline')).toHaveLength(1);
  });

  it('stops gracefully on abort: the running trial is interrupted, its worktree removed, then re-run on resume', async () => {
    const repo = makeRepo({ 'train.mjs': quadraticTrainer(), 'strata.yaml': quadraticConfig({ maxTrials: 3 }) });
    const controller = new AbortController();
    const slow = config(quadraticConfig({ maxTrials: 3, extra: '  env: {SLEEP_MS: "20000"}\n' }));
    const summary = await runResearch({
      configPath: join(repo, 'strata.yaml'),
      config: slow,
      signal: controller.signal,
      observer: { trialStarted: () => setTimeout(() => controller.abort(), 300) },
    });
    expect(summary.study.state).toBe('paused');
    expect(summary.trials).toEqual([expect.objectContaining({ seq: 0, status: 'interrupted' })]);
    expect(gitIn(repo, 'worktree', 'list').split('\n')).toHaveLength(1);

    const resumed = await runResearch({ configPath: join(repo, 'strata.yaml'), config: config(quadraticConfig({ maxTrials: 3 })) });
    expect(resumed.trials.map((t) => [t.seq, t.status, t.attempt])).toEqual([
      [0, 'interrupted', 1],
      [1, 'keep', 2],
      [2, expect.any(String), 1],
      [3, expect.any(String), 1],
    ]);
    expect(resumed.baseline).toMatchObject({ trial: 1, metric: 4.5 });
  });

  it('refuses an editable glob that matches no committed file, before touching git', async () => {
    const text = quadraticConfig().replace('editable: [train.mjs]', 'editable: [model.py]');
    const repo = makeRepo({ 'train.mjs': quadraticTrainer(), 'strata.yaml': text });
    await expect(runResearch({ configPath: join(repo, 'strata.yaml'), config: config(text) })).rejects.toThrow(
      /research.editable: "model.py" matches no committed file/,
    );
    expect(gitIn(repo, 'branch', '--list', 'strata/*')).toBe('');
  });

  it('works on a project folder inside a larger repository, with paths relative to strata.yaml', async () => {
    const repo = makeRepo({ 'README.md': 'root', 'experiments/quad/train.mjs': quadraticTrainer(), 'experiments/quad/strata.yaml': quadraticConfig({ maxTrials: 3 }) });
    const summary = await runResearch({ configPath: join(repo, 'experiments/quad/strata.yaml'), config: config(quadraticConfig({ maxTrials: 3 })) });
    expect(summary.trials.map((t) => t.status)).not.toContain('invalid');
    expect(summary.trials[0]!.metric).toBe(4.5);
    expect(existsSync(join(repo, '.strata', 'ledger.db'))).toBe(true);
  });

  it('refuses a second orchestrator on the same study while the first is alive', async () => {
    const text = quadraticConfig({ maxTrials: 2, extra: '  env: {SLEEP_MS: "3000"}\n' });
    const repo = makeRepo({ 'train.mjs': quadraticTrainer(), 'strata.yaml': text });
    let second: Promise<unknown> | undefined;
    const first = runResearch({
      configPath: join(repo, 'strata.yaml'),
      config: config(text),
      observer: {
        trialStarted: () => {
          // same process id would be allowed (it is us); pretend to be another live process
          sqlRun(ledgerOf(repo), 'UPDATE studies SET owner_pid = ?', process.ppid);
          second ??= runResearch({ configPath: join(repo, 'strata.yaml'), config: config(text) }).catch((error: Error) => error);
        },
      },
    });
    await first;
    expect(String(await second)).toMatch(/is being run by process \d+/);
  });

  it('pauses after repeated failed proposals instead of burning trials, and does not count them', async () => {
    const text = quadraticConfig({ maxTrials: 3 });
    const repo = makeRepo({ 'train.mjs': quadraticTrainer(), 'strata.yaml': text });
    const failing: Proposer = { name: 'broken', propose: async () => Promise.reject(new Error('model replied with nonsense')) };
    const summary = await runResearch({ configPath: join(repo, 'strata.yaml'), config: config(text), proposer: failing });
    expect(summary.study.state).toBe('paused');
    expect(summary.study.stop_reason).toMatch(/5 proposals in a row failed/);
    expect(summary.trials.filter((t) => t.status === 'invalid')).toHaveLength(5);
    expect(summary.trials[1]!.reason).toBe('proposal failed: model replied with nonsense');
  });

  it('stops at max_time', async () => {
    const text = quadraticConfig({ maxTrials: 50, extra: '  max_time: 1s\n' });
    const repo = makeRepo({ 'train.mjs': quadraticTrainer(300), 'strata.yaml': text });
    const summary = await runResearch({ configPath: join(repo, 'strata.yaml'), config: config(text) });
    expect(summary.study.stop_reason).toMatch(/max_time reached/);
    expect(summary.trials.length).toBeLessThan(10);
  });

  it('records Ctrl-C during a proposal as interrupted, not as a failed proposal', async () => {
    const text = quadraticConfig({ maxTrials: 3 });
    const repo = makeRepo({ 'train.mjs': quadraticTrainer(), 'strata.yaml': text });
    const controller = new AbortController();
    const slow: Proposer = {
      name: 'slow-model',
      propose: (context) =>
        new Promise((_resolve, reject) => {
          setTimeout(() => controller.abort(), 100);
          context.signal.addEventListener('abort', () => reject(new Error('This operation was aborted')));
        }),
    };
    const summary = await runResearch({ configPath: join(repo, 'strata.yaml'), config: config(text), proposer: slow, signal: controller.signal });
    expect(summary.study.state).toBe('paused');
    expect(summary.trials.at(-1)).toMatchObject({ status: 'interrupted', reason: 'stopped while the proposal was being made' });
  });
});
