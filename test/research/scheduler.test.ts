import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Proposer } from '../../src/core/proposer.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import type { TrialRecord } from '../../src/ledger/records.ts';
import { checkLedger } from '../../src/ledger/ledger-check.ts';
import { runResearch } from '../../src/research/run-research.ts';
import { config, gitIn, makeRepo, quadraticConfig } from '../helpers/study-repo.ts';

const opened: Ledger[] = [];
afterEach(() => {
  for (const ledger of opened.splice(0)) ledger.close();
});
function ledgerOf(repo: string): Ledger {
  const ledger = Ledger.open(join(repo, '.strata', 'ledger.db'));
  opened.push(ledger);
  return ledger;
}

/** A shell trainer (cheap on a small machine): loss = a + b from two files, after sleeping s.txt seconds. */
const SUM_TRAINER = 'a=$(cat a.txt); b=$(cat b.txt); s=$(cat s.txt); sleep "$s"; echo "slot=$STRATA_SLOT gpu=${CUDA_VISIBLE_DEVICES:-none}"; echo "METRIC loss=$((a + b))"\n';
const sumFiles = { 'train.sh': SUM_TRAINER, 'a.txt': '5\n', 'b.txt': '5\n', 's.txt': '0.2\n', 'c.txt': 'filler\n' };
const sumConfig = (extra: string, maxTrials: number) => `name: par
research:
  editable: [a.txt, b.txt, s.txt, c.txt]
  run: sh train.sh
  budget: 20s
  metric: {name: loss, goal: minimize}
  params: {x: {type: float, low: 0, high: 1}}
  max_trials: ${maxTrials}
  acceptance: {rule: strict}
${extra}`;

/** Writes the given files, in order, one step per proposal; then no-op changes to c.txt. */
function scripted(steps: Record<string, string>[]): Proposer {
  let next = 0;
  return {
    name: 'scripted',
    async propose(context) {
      const step = steps[next] ?? { 'c.txt': `filler ${next}\n` };
      next += 1;
      for (const [path, content] of Object.entries(step)) writeFileSync(join(context.projectDir, path), content);
      return { description: Object.entries(step).map(([path, content]) => `${path}=${content.trim()}`).join(' ') };
    },
  };
}

/** Largest number of trials whose processes ran at the same time (start to start + wall time). */
function maxOverlap(trials: readonly TrialRecord[]): number {
  const edges = trials
    .filter((trial) => trial.startedAt && trial.wallMs !== null)
    .flatMap((trial) => [
      [Date.parse(trial.startedAt!), 1],
      [Date.parse(trial.startedAt!) + trial.wallMs!, -1],
    ])
    .sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
  let now = 0;
  let max = 0;
  for (const [, step] of edges) max = Math.max(max, (now += step!));
  return max;
}

describe('the scheduler', () => {
  it('runs search trials on several slots at once, each proposal distinct, and the ledger still rebuilds from events', async () => {
    const text = quadraticConfig({ maxTrials: 10, run: 'sleep 0.4; node train.mjs', extra: '  executor: {slots: 3}\n' });
    const repo = makeRepo({ 'train.mjs': "import { readFileSync } from 'node:fs';\nconst p = JSON.parse(readFileSync('strata.params.json', 'utf8'));\nconsole.log('METRIC loss=' + ((p.x - 1) ** 2 + 0.5));\n", 'strata.yaml': text });
    // The baseline has no params file: give it one.
    writeFileSync(join(repo, 'strata.params.json'), '{"x": 3}\n');
    gitIn(repo, 'add', '-A');
    gitIn(repo, 'commit', '-q', '-m', 'params');
    const summary = await runResearch({ configPath: join(repo, 'strata.yaml'), config: config(text) });

    expect(summary.study.state).toBe('done');
    expect(summary.trials.filter((t) => t.status !== 'invalid')).toHaveLength(10);
    const ledger = ledgerOf(repo);
    const trials = ledger.trials(1);
    expect(maxOverlap(trials)).toBeGreaterThanOrEqual(2);
    expect(new Set(trials.map((t) => t.slot).filter(Boolean))).toEqual(new Set(['slot-0', 'slot-1', 'slot-2']));
    const keys = trials.filter((t) => t.paramsKey && t.meta?.rebasedFrom === undefined).map((t) => t.paramsKey);
    expect(new Set(keys).size).toBe(keys.length);
    // The branch tip is the best, and holds the best's parameters.
    const best = ledger.trial(ledger.study(1).bestTrialId!);
    expect(gitIn(repo, 'rev-parse', 'strata/quad')).toBe(best.keptCommit);
    expect(JSON.parse(gitIn(repo, 'show', 'strata/quad:strata.params.json')).x).toBe(best.params!.x);
    expect(summary.scheduling).toMatchObject({ slots: 3, executor: 'local' });
    expect(summary.scheduling.duty_cycle).toBeGreaterThan(0);
    expect(gitIn(repo, 'worktree', 'list').split('\n')).toHaveLength(1);

    expect(checkLedger(ledger).differences).toEqual([]);
  });

  it('pins each slot to its GPU: a trial sees only its device, and no device runs two trials at once', async () => {
    const text = sumConfig('  executor: {gpus: [0, 1]}\n', 6);
    const repo = makeRepo({ ...sumFiles, 'strata.yaml': text });
    await runResearch({ configPath: join(repo, 'strata.yaml'), config: config(text), proposer: scripted([]) });
    const trials = ledgerOf(repo).trials(1).filter((t) => t.startedAt);
    for (const trial of trials) {
      const gpu = trial.slot === 'slot-0' ? '0' : '1';
      expect(trial.logTail).toContain(`slot=${trial.slot!.slice(5)} gpu=${gpu}`);
    }
    for (const slot of ['slot-0', 'slot-1']) expect(maxOverlap(trials.filter((t) => t.slot === slot))).toBe(1);
    expect(maxOverlap(trials)).toBe(2);
  });

  it('never runs two processes on one GPU, even when the acceptance rule asks for reruns while deciding', async () => {
    // Noise from the seed, so the noise-aware rule repeats the baseline and asks for reruns.
    const noisy = 'echo "t0=$(date +%s%3N)"; a=$(cat a.txt); b=$(cat b.txt); sleep 0.3; echo "gpu=$CUDA_VISIBLE_DEVICES"; echo "METRIC loss=$((a + b)).$((STRATA_SEED % 7))"; echo "t1=$(date +%s%3N)"\n';
    const text = sumConfig('  executor: {gpus: [0, 1]}\n', 6).replace('  acceptance: {rule: strict}\n', '  acceptance: {rule: noise-aware, baseline_repeats: 3}\n');
    const repo = makeRepo({ ...sumFiles, 'train.sh': noisy, 'strata.yaml': text });
    await runResearch({ configPath: join(repo, 'strata.yaml'), config: config(text), proposer: scripted([{ 'a.txt': '4\n' }, { 'b.txt': '4\n' }, { 'a.txt': '3\n' }]) });
    const runs = ledgerOf(repo)
      .trials(1)
      .filter((t) => t.startedAt && t.wallMs !== null && t.logTail?.includes('gpu='))
      // The process's own clock: a rerun's trial.started is written before it waits for a device.
      .map((t) => ({ seq: t.seq, role: t.role, gpu: /gpu=(\d)/.exec(t.logTail!)![1], start: Number(/t0=(\d+)/.exec(t.logTail!)![1]), end: Number(/t1=(\d+)/.exec(t.logTail!)![1]) }));
    expect(runs.some((run) => run.role !== 'baseline' && run.role !== 'candidate')).toBe(true);
    for (const a of runs) for (const b of runs) if (a !== b && a.gpu === b.gpu) expect(a.end <= b.start || b.end <= a.start, `#${a.seq} and #${b.seq} on gpu ${a.gpu}`).toBe(true);
  }, 60_000);

  it('re-applies a stale winner onto the moved best, re-runs it, and keeps it only because it still wins', async () => {
    // Room for the re-run: a freed slot may take one more ready proposal while #2 is still being judged.
    const text = sumConfig('  executor: {slots: 2}\n', 7);
    const repo = makeRepo({ ...sumFiles, 'strata.yaml': text });
    // #1 improves a (fast); #2 improves b but runs longer, so it finishes on top of an older best.
    // #3 keeps the other slot busy, so the re-run takes the slot #2 frees.
    const proposer = scripted([{ 'a.txt': '1\n' }, { 'b.txt': '2\n', 's.txt': '1.5\n' }, { 'c.txt': 'slow\n', 's.txt': '2.5\n' }]);
    const summary = await runResearch({ configPath: join(repo, 'strata.yaml'), config: config(text), proposer });
    const ledger = ledgerOf(repo);
    const trials = ledger.trials(1);
    const first = trials.find((t) => t.description === 'a.txt=1')!;
    const second = trials.find((t) => t.description === 'b.txt=2 s.txt=1.5' && t.meta?.rebasedFrom === undefined)!;
    expect(first.status).toBe('keep');
    expect(second.status).toBe('discard');
    expect(second.metric).toBe(7);
    expect(second.statusReason).toMatch(/beat its parent #0 \(7 vs 10\), but ran on an older best; re-applied onto the current best #\d+ and queued as #\d+/);
    expect(second.meta?.rebase).toMatchObject({ outcome: 'rerun', onto: first.keptCommit });
    const rerun = trials.find((t) => t.meta?.rebasedFrom === second.seq)!;
    expect(rerun).toMatchObject({ status: 'keep', metric: 3, relatedTrialId: second.id, parentCommit: first.keptCommit });
    // The branch has both changes.
    expect(gitIn(repo, 'show', 'strata/par:a.txt')).toBe('1');
    expect(gitIn(repo, 'show', 'strata/par:b.txt')).toBe('2');
    expect(summary.best).toMatchObject({ metric: 3 });
  });

  it('runs candidates beside the baseline but judges them only after it', async () => {
    const text = sumConfig('  executor: {slots: 2}\n', 2);
    const repo = makeRepo({ ...sumFiles, 's.txt': '1.5\n', 'strata.yaml': text });
    await runResearch({ configPath: join(repo, 'strata.yaml'), config: config(text), proposer: scripted([{ 'a.txt': '1\n', 's.txt': '0.1\n' }]) });
    const [baseline, candidate] = ledgerOf(repo).trials(1);
    expect(Date.parse(candidate!.startedAt!)).toBeLessThan(Date.parse(baseline!.endedAt!));
    expect(candidate!.wallMs!).toBeLessThan(1000);
    expect(Date.parse(candidate!.endedAt!)).toBeGreaterThanOrEqual(Date.parse(baseline!.endedAt!));
    expect(candidate).toMatchObject({ status: 'keep', bestBefore: 10, metric: 6 });
  });

  it('records a rebase conflict on the trial instead of dropping it silently', async () => {
    const text = sumConfig('  executor: {slots: 2, lookahead: 1}\n', 4);
    const repo = makeRepo({ ...sumFiles, 'strata.yaml': text });
    const proposer = scripted([{ 'a.txt': '1\n' }, { 'a.txt': '2\n', 's.txt': '1.5\n' }]);
    await runResearch({ configPath: join(repo, 'strata.yaml'), config: config(text), proposer });
    const trials = ledgerOf(repo).trials(1);
    const loser = trials.find((t) => t.description === 'a.txt=2 s.txt=1.5')!;
    expect(loser.status).toBe('discard');
    expect(loser.statusReason).toMatch(/conflicts with the current best #\d+ in a\.txt; not kept/);
    expect(loser.meta?.rebase).toMatchObject({ outcome: 'conflict', conflicts: ['a.txt'] });
    expect(trials.some((t) => t.meta?.rebasedFrom !== undefined)).toBe(false);
    expect(gitIn(repo, 'show', 'strata/par:a.txt')).toBe('1');
  });

  it('refuses a proposal whose change is already in flight', async () => {
    const text = sumConfig('  executor: {slots: 2}\n', 4);
    const repo = makeRepo({ ...sumFiles, 'strata.yaml': text });
    const proposer = scripted([{ 'a.txt': '4\n', 's.txt': '1\n' }, { 'a.txt': '4\n', 's.txt': '1\n' }]);
    await runResearch({ configPath: join(repo, 'strata.yaml'), config: config(text), proposer });
    const trials = ledgerOf(repo).trials(1);
    const duplicate = trials.find((t) => t.status === 'invalid')!;
    expect(duplicate.statusReason).toBe('proposal failed: duplicate of #1 (the same change is already in flight)');
    expect(duplicate.startedAt).toBeNull();
  });

  it('speculating, a proposer out of ideas fails once beside the running trial, then waits for its result: the trial is decided, never stopped by the streak', async () => {
    const text = sumConfig('  executor: {speculate: true}\n', 6);
    const repo = makeRepo({ ...sumFiles, 's.txt': '1\n', 'strata.yaml': text });
    let calls = 0;
    const oneIdea: Proposer = {
      name: 'one-idea',
      async propose(context) {
        calls += 1;
        if (calls > 1) throw new Error('out of ideas');
        writeFileSync(join(context.projectDir, 'a.txt'), '4\n');
        return { description: 'a=4' };
      },
    };
    const summary = await runResearch({ configPath: join(repo, 'strata.yaml'), config: config(text), proposer: oneIdea });
    const trials = ledgerOf(repo).trials(1);
    const idea = trials.find((trial) => trial.description === 'a=4')!;
    expect(idea.status).toBe('keep');
    // Beside the idea's run exactly one proposal was asked for (it failed); the rest came after its result.
    const failedBeside = trials.filter((trial) => trial.cause === 'proposal-failed' && trial.id !== idea.id && trial.endedAt! < idea.endedAt!);
    expect(failedBeside.length).toBeLessThanOrEqual(1);
    expect(summary.study.state).toBe('paused');
    expect(summary.study.stop_reason).toMatch(/proposals in a row failed \(last: proposal failed: out of ideas\)/);
  }, 60_000);

  it('stops every slot on abort, marks proposals made ahead interrupted, and re-queues them on resume', async () => {
    const text = sumConfig('  executor: {slots: 2}\n  grace: 0.5s\n', 6).replace('budget: 20s', 'budget: 2s');
    const repo = makeRepo({ ...sumFiles, 'strata.yaml': text });
    const controller = new AbortController();
    let started = 0;
    const slow = scripted([{ 'a.txt': '4\n', 's.txt': '20\n' }, { 'a.txt': '3\n', 's.txt': '20\n' }, { 'a.txt': '2\n', 's.txt': '20\n' }]);
    const summary = await runResearch({
      configPath: join(repo, 'strata.yaml'),
      config: config(text),
      proposer: slow,
      signal: controller.signal,
      observer: { trialStarted: () => (++started === 3 ? setTimeout(() => controller.abort(), 300) : undefined) },
    });
    expect(summary.study.state).toBe('paused');
    const trials = ledgerOf(repo).trials(1);
    expect(trials.filter((t) => t.role === 'candidate' && t.status === 'interrupted').length).toBeGreaterThanOrEqual(2);
    expect(trials.every((t) => t.status !== 'running' && t.status !== 'queued')).toBe(true);
    expect(gitIn(repo, 'worktree', 'list').split('\n')).toHaveLength(1);

    const resumed = await runResearch({ configPath: join(repo, 'strata.yaml'), config: config(text), proposer: scripted([]) });
    const reruns = ledgerOf(repo).trials(1).filter((t) => t.meta?.rerunOf !== undefined);
    expect(reruns.length).toBeGreaterThanOrEqual(2);
    expect(resumed.study.state).toBe('done');
  }, 60_000);

  it('screens every candidate at the short budget and promotes the best quarter; only full-budget runs are kept', async () => {
    // STRATA_BUDGET_S tells the trainer its budget: a screen (1s) is worse than a full run (2s) by a constant.
    const trainer = 'a=$(cat a.txt); b=$(cat b.txt); full=$([ "$STRATA_BUDGET_S" = 2 ] && echo 0 || echo 100); echo "METRIC loss=$((a + b + full))"\n';
    const text = sumConfig('  budget: 2s\n  fidelity: {screen_budget: 1s, promote_top: 0.25}\n', 14).replace('  budget: 20s\n', '');
    const repo = makeRepo({ ...sumFiles, 'train.sh': trainer, 'strata.yaml': text });
    const values = ['9', '8', '4', '7', '6', '3', '9', '8', '7', '2', '6', '5'];
    const proposer = scripted(values.map((value) => ({ 'a.txt': `${value}\n` })));
    const summary = await runResearch({ configPath: join(repo, 'strata.yaml'), config: config(text), proposer });
    const trials = ledgerOf(repo).trials(1);
    const screens = trials.filter((t) => t.role === 'screen');
    const promoted = trials.filter((t) => t.meta?.promotedFrom !== undefined);
    expect(screens.length).toBeGreaterThanOrEqual(8);
    for (const screen of screens) {
      expect(screen.budgetMs).toBe(1000);
      expect(screen.status).toBe('discard');
      expect(screen.statusReason).toMatch(/^screening run at 1s/);
    }
    expect(promoted.length).toBeGreaterThanOrEqual(1);
    expect(promoted.length).toBeLessThanOrEqual(Math.floor(screens.length * 0.25) + 1);
    for (const trial of promoted) {
      expect(trial.budgetMs).toBe(2000);
      const screen = trials.find((t) => t.id === trial.relatedTrialId)!;
      expect(screen.role).toBe('screen');
      expect(trial.candidateCommit).toBe(screen.candidateCommit);
    }
    // Only the baseline and promoted (full-budget) runs were kept.
    for (const kept of trials.filter((t) => t.status === 'keep')) expect(kept.role === 'baseline' || kept.meta?.promotedFrom !== undefined).toBe(true);
    expect(summary.best!.metric!).toBeLessThan(10);
  }, 60_000);
});
