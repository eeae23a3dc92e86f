/**
 * Steering a running `strata research` from a second terminal: real
 * processes, real git, the loopback model recording every prompt.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkLedger } from '../../src/ledger/ledger-check.ts';
import { LoopbackModelServer, type LoopbackRequest } from '../helpers/loopback-model.ts';
import { strataProcess, until } from '../helpers/strata-process.ts';
import { makeRepo } from '../helpers/study-repo.ts';
import { ledgerOf, trainer } from './oversight-fixtures.ts';

let server: LoopbackModelServer | undefined;
/** Every proposal prompt with the time it reached the model. */
let arrivals: { at: number; text: string }[] = [];
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const NOTE = 'try x = 1.25; leave <the tokenizer> alone';

/** An agent study whose model rewrites train.mjs with x one step closer to 1 each proposal (whole-file replies). */
async function agentRepo(options: { maxTrials: number; sleepMs: number; extra?: string }) {
  let x = 3;
  arrivals = [];
  server = await LoopbackModelServer.start((request: LoopbackRequest) => {
    if (!request.lastUserText.includes('# Research program')) return { text: 'OK' };
    arrivals.push({ at: Date.now(), text: request.lastUserText });
    x -= 0.25;
    return { text: `DESCRIPTION: x = ${x}\n\ntrain.mjs\n\`\`\`js\n${trainer(x, { sleepMs: options.sleepMs })}\`\`\`\n` };
  });
  const yaml = `name: steer
research:
  editable: [train.mjs]
  run: ${JSON.stringify(`${process.execPath} train.mjs`)}
  budget: 30s
  metric: {name: loss, goal: minimize}
  proposer: agent
  program: program.md
  edit_format: whole-file
  max_trials: ${options.maxTrials}
  acceptance: {rule: strict}
${options.extra ?? ''}llm:
  model: openai-compatible:loop
  base_url: ${server.url}
`;
  const repo = makeRepo({ 'train.mjs': trainer(3, { sleepMs: options.sleepMs }), 'program.md': 'Lower the loss by changing x.\n', 'strata.yaml': yaml });
  return repo;
}


describe('steering a running study from another process', () => {
  it('a note and a program edit reach the next proposal and no earlier one; pause finishes the running trial; resume goes on; stop ends it', async () => {
    const repo = await agentRepo({ maxTrials: 30, sleepMs: 1200 });
    const ledgerFile = join(repo, '.strata', 'ledger.db');
    const trialsNow = () => {
      const ledger = ledgerOf(repo);
      try {
        return ledger.trials(1);
      } finally {
        ledger.close();
      }
    };
    const run = await strataProcess(repo, ['research'], {
      during: async () => {
        await until(() => {
          try {
            return trialsNow().some((trial) => trial.seq === 1 && trial.status === 'running');
          } catch {
            return false; // the ledger is still being created
          }
        }, 'trial #1 running', 60_000);
        const guide = await strataProcess(repo, ['guide', NOTE]);
        expect(guide.stdout).toMatch(/^note 1 added to study steer/);
        const noted = (() => {
          const ledger = ledgerOf(repo);
          try {
            return Date.parse(ledger.oversight.records(1, 'oversight.note_added')[0]!.createdAt);
          } finally {
            ledger.close();
          }
        })();
        appendFileSync(join(repo, 'program.md'), 'Prefer small steps.\n');
        const edited = Date.now();
        // No prompt before the note holds it; the next proposal reads it (one may already be under way when the note
        // lands, prepared ahead for the busy slot: it read the guidance before, so the one after it is the next).
        await until(() => arrivals.filter((arrival) => arrival.at > edited).length >= 3, 'proposals after the note', 60_000);
        const before = arrivals.filter((arrival) => arrival.at < noted);
        expect(before.length).toBeGreaterThan(0);
        expect(before.some((arrival) => arrival.text.includes(NOTE))).toBe(false);
        const after = arrivals.filter((arrival) => arrival.at > edited);
        expect(after.slice(1).every((arrival) => arrival.text.includes(`[note 1, `) && arrival.text.includes(NOTE) && arrival.text.includes('Prefer small steps.'))).toBe(true);
        expect(arrivals.filter((arrival) => arrival.at < edited).some((arrival) => arrival.text.includes('Prefer small steps.'))).toBe(false);
        // Pause from another process: the running trial finishes, then the study pauses.
        const running = () => trialsNow().filter((trial) => trial.status === 'running').map((trial) => trial.seq);
        await until(() => running().length > 0, 'a running trial', 60_000);
        const pausedWhile = running();
        const pause = await strataProcess(repo, ['pause', '--why', 'lunch']);
        expect(pause.code).toBe(0);
        expect(pause.stdout).toMatch(/pausing after the running trials finish/);
      },
    });
    expect(run.code).toBe(0);
    let ledger = ledgerOf(repo);
    let study = ledger.study(1);
    expect(study.state).toBe('paused');
    expect(study.stopCause).toBe('oversight');
    expect(study.stopReason).toMatch(/^paused by \S+ from the cli: lunch; resume with strata resume$/);
    const trials = ledger.trials(1);
    // No run was cut short (a proposal prepared ahead and not started is set aside, `not-started`, and re-queued on resume).
    expect(trials.filter((trial) => trial.status === 'interrupted' && trial.cause !== 'not-started')).toEqual([]);
    // Which program and notes each trial was proposed under.
    const stamps = trials.filter((trial) => trial.role === 'candidate' && trial.meta?.guidance).map((trial) => trial.meta!.guidance as { program: string; notes: number[] });
    expect(stamps[0]!.notes).toEqual([]);
    expect(stamps.at(-1)!.notes).toEqual([1]);
    expect(new Set(stamps.map((stamp) => stamp.program)).size).toBe(2);
    expect(checkLedger(ledger).ok).toBe(true);
    ledger.close();

    // status says where the program and the notes changed: before the first trial proposed under each.
    const fresh = trials.filter((trial) => trial.meta?.guidance && trial.retryOf === null && trial.meta.rerunOf === undefined);
    const programChanged = fresh.find((trial) => (trial.meta!.guidance as { program: string }).program !== stamps[0]!.program)!;
    const notesChanged = fresh.find((trial) => (trial.meta!.guidance as { notes: number[] }).notes.length > 0)!;
    const hash = (trial: typeof fresh[number]) => (trial.meta!.guidance as { program: string }).program.slice(0, 8);
    const status = await strataProcess(repo, ['status']);
    expect(status.stdout).toMatch(/steer {2}research · paused \(paused by .* from the cli: lunch/);
    expect(status.stdout).toContain(`program changed before #${programChanged.seq} (${stamps[0]!.program.slice(0, 8)} → ${hash(programChanged)})`);
    expect(status.stdout).toContain(`notes changed before #${notesChanged.seq} (active notes none → 1)`);
    const json = JSON.parse((await strataProcess(repo, ['status', '--json'])).stdout) as { guidance_changes: { before: number; kind: string }[] };
    expect(json.guidance_changes.map((change) => `${change.kind} #${change.before}`).sort()).toEqual([`notes #${notesChanged.seq}`, `program #${programChanged.seq}`].sort());

    // pause --now of a study that is not running says so, without a stack trace.
    const idle = await strataProcess(repo, ['pause', '--now']);
    expect(idle.code).not.toBe(0);
    expect(idle.stderr).toMatch(/study "steer" is not running \(it is paused.*strata resume starts it again/);

    // Resume in the background, then stop it from here.
    const resume = await strataProcess(repo, ['resume']);
    expect(resume.stdout).toMatch(/resumed study steer in the background \(process \d+\); output: .*resume-.*\.log/);
    const count = trialsNow().length;
    await until(() => trialsNow().length > count + 1 && trialsNow().some((trial) => trial.status === 'running'), 'the resumed study running a trial', 60_000);
    const stop = await strataProcess(repo, ['stop', '--why', 'enough']);
    expect(stop.code).toBe(0);
    expect(stop.stdout).toMatch(/steer is done: stopped by \S+ from the cli: enough/);
    ledger = ledgerOf(repo);
    study = ledger.study(1);
    expect(study).toMatchObject({ state: 'done', stopCause: 'oversight' });
    // The running trial was interrupted by the stop, its decision or its re-run owed to nobody: the study is over.
    expect(ledger.trials(1).some((trial) => trial.status === 'running')).toBe(false);
    expect(checkLedger(ledger).ok).toBe(true);
    ledger.close();
    expect(ledgerFile).toBeTruthy();
  }, 180_000);

  it('pause --now from another process stops the running trial at once; it is queued again on resume', async () => {
    const repo = await agentRepo({ maxTrials: 30, sleepMs: 20_000 });
    const run = await strataProcess(repo, ['research'], {
      during: async () => {
        await until(() => {
          try {
            const ledger = ledgerOf(repo);
            try {
              return ledger.trials(1).some((trial) => trial.seq === 1 && trial.status === 'running');
            } finally {
              ledger.close();
            }
          } catch {
            return false;
          }
        }, 'trial #1 running', 60_000);
        const started = Date.now();
        const pause = await strataProcess(repo, ['pause', '--now']);
        expect(pause.stdout).toMatch(/steer is paused: paused by \S+ from the cli; resume with strata resume/);
        expect(Date.now() - started).toBeLessThan(15_000); // not the 20 s the trial would take
      },
    });
    expect(run.code).toBe(0);
    const ledger = ledgerOf(repo);
    expect(ledger.study(1)).toMatchObject({ state: 'paused', stopCause: 'oversight' });
    expect(ledger.trialBySeq(1, 1)).toMatchObject({ status: 'interrupted', cause: 'stopped' });
    const applied = ledger.oversight.records(1, 'oversight.control_applied');
    expect(applied.map((record) => record.payload.action)).toEqual(['pause-now']);
    expect(checkLedger(ledger).ok).toBe(true);
    ledger.close();
    writeFileSync(join(repo, 'unused'), '');
  }, 120_000);
});
