import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkLedger } from '../../src/ledger/ledger-check.ts';
import { runResearch } from '../../src/research/run-research.ts';
import { LoopbackModelServer, type LoopbackRequest } from '../helpers/loopback-model.ts';
import { strataProcess } from '../helpers/strata-process.ts';
import { config, gitIn, makeRepo } from '../helpers/study-repo.ts';
import { ledgerOf, scripted, studyYaml, trainer } from './oversight-fixtures.ts';

const show = (repo: string, ref: string) => gitIn(repo, 'show', `${ref}:train.mjs`);

describe('strata veto', () => {
  it('rebuilds the branch without the vetoed keep, re-applies later keeps, and the next proposal sees the veto', async () => {
    const yaml = studyYaml({ maxTrials: 3 });
    const repo = makeRepo({ 'train.mjs': trainer(3), 'strata.yaml': yaml });
    // #1 changes x (a keep), #2 changes y on a different line (a keep on top of #1).
    const base = trainer(3);
    const one = trainer(2);
    const two = trainer(2, { y: 0.1 }).replace('const y = 0.1;', 'const y = 0.1; // smaller y');
    await runResearch({
      configPath: join(repo, 'strata.yaml'),
      config: config(yaml),
      proposer: scripted([
        { description: 'x = 2', train: one },
        { description: 'y = 0.1', train: two },
      ]),
    });
    let ledger = ledgerOf(repo);
    const before = ledger.trials(1);
    expect(before.map((trial) => trial.status)).toEqual(['keep', 'keep', 'keep']);
    ledger.close();
    expect(show(repo, 'strata/steer')).toContain('const x = 2;');

    // Veto #1 from another process: the branch no longer holds x = 2, #2's change survives.
    const veto = await strataProcess(repo, ['veto', '1', '--why', 'x must stay <b>3</b>']);
    expect(veto.stderr).toBe('');
    expect(veto.code).toBe(0);
    expect(veto.stdout).toMatch(/vetoed #1: the branch is rebuilt without it .* best #2; re-applied #2/);
    const head = show(repo, 'strata/steer');
    expect(head).toContain('const x = 3;');
    expect(head).toContain('const y = 0.1; // smaller y');
    ledger = ledgerOf(repo);
    const study = ledger.study(1);
    const best = ledger.trial(study.bestTrialId!);
    expect(best.seq).toBe(2);
    expect(best.keptCommit).toBe(gitIn(repo, 'rev-parse', 'strata/steer'));
    expect(ledger.trialBySeq(1, 1)!.meta?.veto).toMatchObject({ reason: 'x must stay <b>3</b>', source: 'cli' });
    expect(checkLedger(ledger).ok).toBe(true);
    ledger.close();

    // Clear errors for what cannot be vetoed, never a stack trace.
    for (const [trial, message] of [
      ['0', /trial #0 is the baseline/],
      ['1', /trial #1 was vetoed already/],
      ['42', /no trial #42 in study "steer"/],
    ] as const) {
      const refused = await strataProcess(repo, ['veto', trial]);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(message);
      expect(refused.stderr).not.toMatch(/\n\s+at /);
    }

    // The study goes on from the rebuilt branch, and the proposer's history marks #1 vetoed with its reason.
    const seen: Parameters<typeof scripted>[1] = [];
    const yaml2 = studyYaml({ maxTrials: 4 });
    await runResearch({ configPath: join(repo, 'strata.yaml'), config: config(yaml2), proposer: scripted([{ description: 'x = 1', train: trainer(1, { y: 0.1 }) }], seen, 3) });
    expect(seen[0]!.history.find((trial) => trial.seq === 1)!.vetoed).toBe('x must stay <b>3</b>');
    expect(seen[0]!.best!.seq).toBe(2);
    ledger = ledgerOf(repo);
    expect(checkLedger(ledger).ok).toBe(true);
    ledger.close();
    expect(readFileSync(join(repo, 'train.mjs'), 'utf8')).toBe(base); // the user's checkout is never touched
  }, 60_000);

  it('re-queues a later keep whose change conflicts with the rebuilt branch, never dropping it silently', async () => {
    const yaml = studyYaml({ maxTrials: 3 });
    const repo = makeRepo({ 'train.mjs': trainer(3), 'strata.yaml': yaml });
    await runResearch({
      configPath: join(repo, 'strata.yaml'),
      config: config(yaml),
      proposer: scripted([
        { description: 'x = 2', train: trainer(2) },
        { description: 'x = 1.5', train: trainer(1.5) }, // the same line as #1: conflicts once #1 is gone
      ]),
    });
    const veto = await strataProcess(repo, ['veto', '#1', '--why', 'wrong direction']);
    expect(veto.code).toBe(0);
    expect(veto.stdout).toMatch(/#2 conflicts in train.mjs: queued again as a new candidate/);
    const ledger = ledgerOf(repo);
    const trials = ledger.trials(1);
    expect(ledger.trial(ledger.study(1).bestTrialId!).seq).toBe(0);
    expect(gitIn(repo, 'rev-parse', 'strata/steer')).toBe(trials[0]!.keptCommit);
    const requeued = trials.find((trial) => trial.seq === 3)!;
    expect(requeued).toMatchObject({ status: 'queued', relatedTrialId: trials[2]!.id, parentCommit: trials[0]!.keptCommit });
    expect(requeued.description).toMatch(/^redo #2 after the veto of #1/);
    expect(trials[2]!.meta?.veto).toMatchObject({ after: 1 });
    expect(checkLedger(ledger).ok).toBe(true);
    ledger.close();
  }, 60_000);
});

describe('strata veto of a running study', () => {
  it('is applied by the orchestrator between decisions; a trial running on the vetoed change is settled as a stale winner', async () => {
    const yaml = studyYaml({ maxTrials: 4 });
    const repo = makeRepo({ 'train.mjs': trainer(3), 'strata.yaml': yaml });
    // #1 keeps x = 2; #2 (y = 0.1, on another line) runs on top of #1 while #1 is vetoed.
    let vetoed: Promise<{ code: number | null; stdout: string; stderr: string }> | undefined;
    const proposer = scripted([
      { description: 'x = 2', train: trainer(2) },
      { description: 'y = 0.1', train: trainer(2, { y: 0.1, sleepMs: 6000 }) },
    ]);
    const watching = (async () => {
      const { until } = await import('../helpers/strata-process.ts');
      await until(() => {
        try {
          const ledger = ledgerOf(repo);
          try {
            return ledger.trials(1).some((trial) => trial.seq === 2 && trial.status === 'running');
          } finally {
            ledger.close();
          }
        } catch {
          return false;
        }
      }, 'trial #2 running', 60_000);
      vetoed = strataProcess(repo, ['veto', '1', '--why', 'not x']);
      await vetoed;
    })();
    await runResearch({ configPath: join(repo, 'strata.yaml'), config: config(yaml), proposer });
    await watching;
    const veto = await vetoed!;
    expect(veto.stdout).toMatch(/study steer: vetoed #1: the branch is rebuilt without it .* best #0/);
    const ledger = ledgerOf(repo);
    const two = ledger.trialBySeq(1, 2)!;
    // #2 beat its parent (#1, now off the branch): its own change (y) is re-applied onto the new best and run again.
    expect(two).toMatchObject({ status: 'discard', cause: 'stale' });
    const rerun = ledger.trials(1).find((trial) => trial.relatedTrialId === two.id && trial.meta?.rebasedFrom === 2);
    expect(rerun).toBeDefined();
    const rerunTree = gitIn(repo, 'show', `${rerun!.candidateCommit}:train.mjs`);
    expect(rerunTree).toContain('const x = 3;');
    expect(rerunTree).toContain('const y = 0.1;');
    expect(show(repo, 'strata/steer')).not.toContain('const x = 2;');
    expect(checkLedger(ledger).ok).toBe(true);
    ledger.close();
  }, 90_000);
});

describe('a keep re-queued by a veto, then a stop before its proposal', () => {
  let server: LoopbackModelServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('is proposed (as a new idea, not a crash fix) and run by the next strata research, never lost to recovery', async () => {
    const yaml = studyYaml({ maxTrials: 3 });
    const repo = makeRepo({ 'train.mjs': trainer(3), 'program.md': 'Lower the loss by changing x.\n', 'strata.yaml': yaml });
    await runResearch({
      configPath: join(repo, 'strata.yaml'),
      config: config(yaml),
      proposer: scripted([
        { description: 'x = 2', train: trainer(2) },
        { description: 'x = 1.5', train: trainer(1.5) }, // the same line as #1: conflicts once #1 is gone
      ]),
    });
    // No orchestrator runs: the CLI rebuilds the branch itself and queues #2 again as #3.
    const veto = await strataProcess(repo, ['veto', '1', '--why', 'wrong direction']);
    expect(veto.stdout).toMatch(/#2 conflicts in train.mjs: queued again as a new candidate/);
    let ledger = ledgerOf(repo);
    const two = ledger.trialBySeq(1, 2)!;
    const base = ledger.trialBySeq(1, 0)!.keptCommit;
    expect(ledger.trialBySeq(1, 3)).toMatchObject({ status: 'queued', relatedTrialId: two.id, candidateCommit: null, parentCommit: base });
    ledger.close();

    // The next session, a real process with the agent proposer on the loopback model, recovers the study first.
    const prompts: string[] = [];
    server = await LoopbackModelServer.start((request: LoopbackRequest) => {
      if (!request.lastUserText.includes('# Research program')) return { text: 'OK' };
      prompts.push(request.lastUserText);
      return { text: `DESCRIPTION: x = 1.25 on the rebuilt branch\n\ntrain.mjs\n\`\`\`js\n${trainer(1.25)}\`\`\`\n` };
    });
    const agent = `  proposer: agent\n  program: program.md\n  edit_format: whole-file\n`;
    writeFileSync(join(repo, 'strata.yaml'), `${studyYaml({ maxTrials: 4, proposer: agent })}llm:\n  model: openai-compatible:loop\n  base_url: ${server.url}\n`);
    const run = await strataProcess(repo, ['research']);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/recovered: trial 3 interrupted by the last stop; re-queued 1/);
    ledger = ledgerOf(repo);
    const redo = ledger.trials(1).filter((trial) => trial.relatedTrialId === two.id);
    // #3 interrupted by recovery, its new attempt #4 proposed on the rebuilt branch, run and kept.
    expect(redo.map((trial) => `#${trial.seq} ${trial.status}`)).toEqual(['#3 interrupted', '#4 keep']);
    expect(redo[1]).toMatchObject({ retryOf: redo[0]!.id, parentCommit: base, description: 'x = 1.25 on the rebuilt branch' });
    expect(ledger.trial(ledger.study(1).bestTrialId!).seq).toBe(4);
    expect(gitIn(repo, 'show', 'strata/steer:train.mjs')).toContain('const x = 1.25;');
    // Its prompt asks for a new idea with #2 marked in the history, not for the fix of a crash (the baseline never crashed).
    expect(prompts).toHaveLength(1);
    expect(prompts[0]).not.toMatch(/fix the crash/);
    expect(prompts[0]).toMatch(/Propose the next experiment/);
    expect(checkLedger(ledger).ok).toBe(true);
    ledger.close();
  }, 90_000);

  it('is run by the next session also when a running study vetoed it and paused before proposing it', async () => {
    const yaml = studyYaml({ maxTrials: 10 });
    const repo = makeRepo({ 'train.mjs': trainer(3), 'strata.yaml': yaml });
    const ledgerNow = <T,>(look: (ledger: ReturnType<typeof ledgerOf>) => T): T | undefined => {
      try {
        const ledger = ledgerOf(repo);
        try {
          return look(ledger);
        } finally {
          ledger.close();
        }
      } catch {
        return undefined;
      }
    };
    // #1 and #2 change the same line (#2 conflicts once #1 is gone); #3 runs long on top of #2 while the study is
    // asked to pause (no new proposal from then on) and #1 is vetoed: #2's redo is queued and never proposed this session.
    const steering = (async () => {
      const { until } = await import('../helpers/strata-process.ts');
      await until(() => ledgerNow((ledger) => ledger.trialBySeq(1, 3)?.status === 'running') === true, 'trial #3 running', 60_000);
      expect((await strataProcess(repo, ['pause'])).stdout).toMatch(/pausing after the running trials finish/);
      expect((await strataProcess(repo, ['veto', '1', '--why', 'not x'])).stdout).toMatch(/#2 conflicts in train.mjs: queued again as a new candidate/);
    })();
    const first = await runResearch({
      configPath: join(repo, 'strata.yaml'),
      config: config(yaml),
      proposer: scripted([
        { description: 'x = 2', train: trainer(2) },
        { description: 'x = 1.5', train: trainer(1.5) },
        { description: 'y = 0.1', train: trainer(1.5, { y: 0.1, sleepMs: 4000 }) },
      ]),
    });
    await steering;
    expect(first.study.state).toBe('paused');
    let ledger = ledgerOf(repo);
    const two = ledger.trialBySeq(1, 2)!;
    expect(ledger.trials(1).filter((trial) => trial.relatedTrialId === two.id).map((trial) => `${trial.status} ${trial.cause}`)).toEqual(['interrupted not-started']);
    ledger.close();

    // The next session proposes the redo on the rebuilt branch and runs it.
    const seen: Parameters<typeof scripted>[1] = [];
    const again = await runResearch({
      configPath: join(repo, 'strata.yaml'),
      config: config(yaml),
      proposer: {
        name: 'scripted',
        async propose(context) {
          seen.push(context);
          const x = 1.25 - 0.01 * (seen.length - 1); // each proposal a change of its own
          writeFileSync(join(context.projectDir, 'train.mjs'), trainer(x));
          return { description: `x = ${x}` };
        },
      },
    });
    expect(again.study).toMatchObject({ state: 'done', stop_reason: 'max_trials reached (10)' });
    ledger = ledgerOf(repo);
    const redo = ledger.trials(1).filter((trial) => trial.relatedTrialId === two.id);
    // Its new attempt was proposed on the rebuilt branch and measured; whatever ran beside it (#3's own change, re-applied
    // after the veto), its change ends on the branch.
    expect(redo.map((trial) => trial.status)).toHaveLength(2);
    expect(redo[0]!.status).toBe('interrupted');
    expect(redo[1]).toMatchObject({ retryOf: redo[0]!.id, parentCommit: ledger.trialBySeq(1, 0)!.keptCommit, description: 'x = 1.25' });
    expect(redo[1]!.metric).toBe(0.5625);
    expect(gitIn(repo, 'show', 'strata/steer:train.mjs')).toContain('const x = 1.25;');
    expect(seen.find((context) => context.trialId === redo[1]!.id)?.repairOf).toBeUndefined();
    expect(checkLedger(ledger).ok).toBe(true);
    ledger.close();
  }, 120_000);
});
