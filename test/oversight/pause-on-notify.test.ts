import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { normalizeOversight } from '../../src/core/config/oversight-config.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { checkLedger } from '../../src/ledger/ledger-check.ts';
import { Notifier } from '../../src/oversight/notifier.ts';
import { retryAfterMs } from '../../src/oversight/retry-delay.ts';
import { runResearch } from '../../src/research/run-research.ts';
import { LoopbackModelServer, type LoopbackRequest } from '../helpers/loopback-model.ts';
import { strataProcess, until } from '../helpers/strata-process.ts';
import { config, gitIn, makeRepo } from '../helpers/study-repo.ts';
import { ledgerOf, scripted, studyYaml, trainer } from './oversight-fixtures.ts';

/** A loopback webhook receiver answering from `statuses` in turn (then 200), recording every body. */
async function receiver(statuses: { status: number; headers?: Record<string, string> }[] = []) {
  const bodies: { at: number; body: Record<string, unknown>; status: number }[] = [];
  const server: Server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => {
      const answer = statuses.shift() ?? { status: 200 };
      bodies.push({ at: Date.now(), body: JSON.parse(text) as Record<string, unknown>, status: answer.status });
      response.writeHead(answer.status, answer.headers ?? {}).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  servers.push(server);
  return { url: `http://127.0.0.1:${address.port}/hooks/SECRET-TOKEN-123`, bodies };
}
const servers: Server[] = [];
let model: LoopbackModelServer | undefined;
afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
  await model?.close();
  model = undefined;
  delete process.env.STRATA_TEST_WEBHOOK;
});

function memoryStudy(): Ledger {
  const ledger = Ledger.open(':memory:');
  ledger.record('study.created', { studyId: 1, name: 's', kind: 'research', config: {}, configHash: 'h', branch: null, baseCommit: null }, { studyId: 1 });
  return ledger;
}

describe('notifications', () => {
  it('a webhook that answers 500 twice then 200 gets exactly one delivery, recorded without its URL', async () => {
    const hook = await receiver([{ status: 500 }, { status: 500 }]);
    const ledger = memoryStudy();
    const notifier = new Notifier({
      ledger,
      studyId: 1,
      studyName: 's',
      targets: normalizeOversight({ notify: [{ webhook: { url_env: 'HOOK' } }] }).notify,
      env: { HOOK: hook.url },
      backoffBaseMs: 20,
    });
    notifier.notify('new_best', '#3 is the new best');
    await notifier.flush(10_000);
    expect(hook.bodies.map((entry) => entry.status)).toEqual([500, 500, 200]);
    expect(hook.bodies.filter((entry) => entry.status === 200)).toHaveLength(1);
    expect(hook.bodies[2]!.body).toMatchObject({ topic: 'new_best', study: 's', text: 'Strata · s: #3 is the new best' });
    const deliveries = ledger.oversight.records(1, 'oversight.notification').map((record) => record.payload);
    expect(deliveries).toEqual([{ studyId: 1, topic: 'new_best', target: 'webhook HOOK', outcome: 'delivered', attempts: 3, detail: null }]);
    expect(JSON.stringify(ledger.events())).not.toContain('SECRET-TOKEN-123');
    ledger.close();
  });

  it('honors Retry-After, gives up on a 4xx, and a command target reads the event on stdin', async () => {
    expect(retryAfterMs('2', 0)).toBe(2000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 0)).toBe(10_000);
    expect(retryAfterMs('soon', 0)).toBeUndefined();
    const hook = await receiver([{ status: 429, headers: { 'retry-after': '1' } }]);
    const refused = await receiver([{ status: 404 }, { status: 404 }]);
    const out = join(mkdtempSync(join(tmpdir(), 'strata-notify-')), 'event.json');
    const ledger = memoryStudy();
    const notifier = new Notifier({
      ledger,
      studyId: 1,
      studyName: 's',
      targets: normalizeOversight({
        notify: [{ webhook: { url_env: 'HOOK' } }, { webhook: { url_env: 'GONE' }, on: ['failed'] }, { command: `cat > ${JSON.stringify(out)}`, on: ['paused'] }],
      }).notify,
      env: { HOOK: refused.url, GONE: hook.url },
      backoffBaseMs: 20,
    });
    notifier.notify('paused', 'paused: review');
    notifier.notify('failed', 'failed: boom');
    await notifier.flush(10_000);
    expect(refused.bodies).toHaveLength(2); // paused and failed each tried once: 404 is not retried
    expect(hook.bodies).toHaveLength(2);
    expect(hook.bodies[1]!.at - hook.bodies[0]!.at).toBeGreaterThanOrEqual(950);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toMatchObject({ topic: 'paused', text: 'Strata · s: paused: review' });
    const outcomes = ledger.oversight.records(1, 'oversight.notification').map((record) => `${record.payload.topic} ${record.payload.target} ${record.payload.outcome} ${record.payload.attempts} ${record.payload.detail ?? ''}`);
    expect(outcomes.sort()).toEqual(['failed webhook GONE delivered 2 ', 'failed webhook HOOK failed 1 HTTP 404', 'paused command #3 delivered 1 ', 'paused webhook HOOK failed 1 HTTP 404']);
    ledger.close();
  });
});

describe('oversight.pause_on', () => {
  it('crash_streak pauses once after N failed trials in a row, and says why in the study and the notification', async () => {
    const hook = await receiver();
    process.env.STRATA_TEST_WEBHOOK = hook.url;
    const extra = 'oversight:\n  pause_on: {crash_streak: 2}\n  notify:\n    - webhook: {url_env: STRATA_TEST_WEBHOOK}\n      on: [paused, new_best]\n';
    const yaml = studyYaml({ maxTrials: 8 }) + extra;
    const repo = makeRepo({ 'train.mjs': trainer(3), 'strata.yaml': yaml });
    const summary = await runResearch({
      configPath: join(repo, 'strata.yaml'),
      config: config(yaml),
      proposer: scripted([
        { description: 'x = 2', train: trainer(2) },
        { description: 'crash one', train: trainer(2.5, { crash: true }) },
        { description: 'crash two', train: trainer(2.4, { crash: true }) },
        { description: 'x = 1.5', train: trainer(1.5) },
      ]),
    });
    expect(summary.study.state).toBe('paused');
    const ledger = ledgerOf(repo);
    expect(ledger.study(1)).toMatchObject({ stopCause: 'oversight' });
    expect(ledger.study(1).stopReason).toMatch(/^paused by oversight.pause_on.crash_streak: 2 trials in a row crashed, timed out or were invalid \(the last #3/);
    expect(ledger.trials(1).map((trial) => trial.status).slice(0, 4)).toEqual(['keep', 'keep', 'crash', 'crash']);
    expect(ledger.oversight.records(1, 'oversight.pause_triggered').map((record) => record.payload.condition)).toEqual(['crash_streak']);
    await until(() => hook.bodies.length >= 2, 'two notifications');
    expect(hook.bodies.map((entry) => entry.body.topic)).toEqual(['new_best', 'paused']);
    expect(String(hook.bodies[1]!.body.text)).toMatch(/paused: paused by oversight.pause_on.crash_streak/);
    expect(checkLedger(ledger).ok).toBe(true);
    ledger.close();

    // Resumed, the streak starts again from zero: the next keep does not pause.
    const yaml5 = studyYaml({ maxTrials: 5 }) + extra;
    const again = await runResearch({ configPath: join(repo, 'strata.yaml'), config: config(yaml5), proposer: scripted([{ description: 'x = 1.5', train: trainer(1.5) }], [], 4) });
    expect(again.study).toMatchObject({ state: 'done', stop_reason: 'max_trials reached (5)' });
  }, 60_000);

  it('new_best and diff_lines each pause after the keep that met them, once', async () => {
    const extra = 'oversight:\n  pause_on: {new_best: true, diff_lines: 10}\n';
    const yaml = studyYaml({ maxTrials: 12 }) + extra;
    const repo = makeRepo({ 'train.mjs': trainer(3), 'strata.yaml': yaml });
    const steps = [
      { description: 'x = 2', train: trainer(2) },
      { description: 'x = 1.5 with a long comment', train: trainer(1.5, { padding: 20 }) },
    ];
    const first = await runResearch({ configPath: join(repo, 'strata.yaml'), config: config(yaml), proposer: scripted(steps) });
    expect(first.study.state).toBe('paused');
    expect(first.study.stop_reason).toMatch(/^paused by oversight.pause_on.new_best: #1 is the new best/);
    const second = await runResearch({ configPath: join(repo, 'strata.yaml'), config: config(yaml), proposer: scripted(steps) });
    expect(second.study.state).toBe('paused');
    const ledger = ledgerOf(repo);
    // The long change is #2, or #3 when #2 was proposed ahead of the first pause and set aside (its new attempt).
    const long = ledger.trials(1).find((trial) => trial.status === 'keep' && trial.description === 'x = 1.5 with a long comment')!;
    expect(second.study.stop_reason).toBe(`paused by oversight.pause_on.diff_lines: kept #${long.seq} changes 22 lines (more than 10); review it, then strata resume`);
    expect(ledger.oversight.records(1, 'oversight.pause_triggered').map((record) => `${record.payload.condition} #${ledger.trial(record.payload.trialId!).seq}`)).toEqual(['new_best #1', `diff_lines #${long.seq}`]);
    expect(checkLedger(ledger).ok).toBe(true);
    ledger.close();
  }, 60_000);

  it('holdout_gap pauses after the keep that improved validation while its holdout got worse than the best it replaced, once', async () => {
    // Validation rewards y, the holdout punishes it (overfitting); the holdout sits 0.2 above validation throughout,
    // more than the gap: a study that only compared a trial's holdout with its own validation would pause at every keep.
    const train = (x: number, y: number) =>
      `import { writeFileSync } from 'node:fs';\nwriteFileSync(process.env.STRATA_ARTIFACTS + '/model.json', JSON.stringify({ x: ${x}, y: ${y} }));\nconsole.log('METRIC loss=' + ((${x} - 1) ** 2 - ${y} + 0.5));\n`;
    const holdout = `import { readFileSync } from 'node:fs';\nconst { x, y } = JSON.parse(readFileSync(process.env.STRATA_ARTIFACTS + '/model.json', 'utf8'));\nconsole.log('METRIC loss=' + ((x - 1) ** 2 + y + 0.7));\n`;
    const extra = `  holdout: ${JSON.stringify(`${process.execPath} holdout.mjs`)}\noversight:\n  pause_on: {holdout_gap: 0.1}\n`;
    const yaml = studyYaml({ maxTrials: 4, extra });
    const repo = makeRepo({ 'train.mjs': train(3, 0), 'holdout.mjs': holdout, 'strata.yaml': yaml });
    const steps = [
      { description: 'x = 2', train: train(2, 0) }, // validation 1.5, holdout 1.7: both better than the baseline's (4.5, 4.7)
      { description: 'y = 0.3', train: train(2, 0.3) }, // validation 1.2 (better), holdout 2.0 (worse than #1's 1.7 by 0.3)
      { description: 'x = 1.5', train: train(1.5, 0.3) }, // validation 0.45, holdout 1.25: both better again
    ];
    const first = await runResearch({ configPath: join(repo, 'strata.yaml'), config: config(yaml), proposer: scripted(steps) });
    expect(first.study.state).toBe('paused');
    expect(first.study.stop_reason).toBe(
      'paused by oversight.pause_on.holdout_gap: new best #2 improved validation (1.2) but its holdout got worse: 2 against 1.7 for #1 (by 0.3, more than 0.1): it may overfit the validation split; review it, then strata resume',
    );
    const second = await runResearch({ configPath: join(repo, 'strata.yaml'), config: config(yaml), proposer: scripted(steps) });
    expect(second.study).toMatchObject({ state: 'done', stop_reason: 'max_trials reached (4)' });
    const ledger = ledgerOf(repo);
    const holdouts = ledger.research.holdoutResults(1);
    const kept = ledger.trials(1).filter((trial) => trial.status === 'keep');
    expect(kept.map((trial) => `${trial.description}: ${trial.metric} / ${holdouts.get(trial.id)?.metric}`)).toEqual(['baseline (unmodified): 4.5 / 4.7', 'x = 2: 1.5 / 1.7', 'y = 0.3: 1.2 / 2', 'x = 1.5: 0.45 / 1.25']);
    expect(ledger.oversight.records(1, 'oversight.pause_triggered').map((record) => `${record.payload.condition} #${ledger.trial(record.payload.trialId!).seq}`)).toEqual(['holdout_gap #2']);
    expect(checkLedger(ledger).ok).toBe(true);
    ledger.close();
  }, 90_000);

  it('spend_usd pauses each time LLM spend crosses a multiple, once per multiple; budget_warning is sent once, at 80% of llm.max_usd', async () => {
    const hook = await receiver();
    // Each proposal is one model call of a million input tokens at $0.50 per million: $0.50 a proposal.
    let x = 3;
    model = await LoopbackModelServer.start((request: LoopbackRequest) => {
      if (!request.lastUserText.includes('# Research program')) return { text: 'OK', usage: { input: 0, output: 0 } };
      x -= 0.25;
      return { text: `DESCRIPTION: x = ${x}\n\ntrain.mjs\n\`\`\`js\n${trainer(x)}\`\`\`\n`, usage: { input: 1_000_000, output: 0 } };
    });
    const agent = '  proposer: agent\n  program: program.md\n  edit_format: whole-file\n';
    const yaml = `${studyYaml({ maxTrials: 30, proposer: agent })}oversight:
  pause_on: {spend_usd: 1.25}
  notify:
    - webhook: {url_env: STRATA_TEST_WEBHOOK}
      on: [budget_warning, paused, done]
llm:
  model: openai-compatible:loop
  base_url: ${model.url}
  max_usd: 3
  prices: {input_per_mtok: 0.5, output_per_mtok: 0}
`;
    const repo = makeRepo({ 'train.mjs': trainer(3), 'program.md': 'Lower the loss by changing x.\n', 'strata.yaml': yaml });
    const env = { STRATA_TEST_WEBHOOK: hook.url };
    const study = () => {
      const ledger = ledgerOf(repo);
      try {
        return { study: ledger.study(1), trials: ledger.trials(1), spent: ledger.llm.spentUsd(1), triggers: ledger.oversight.records(1, 'oversight.pause_triggered').map((record) => record.payload) };
      } finally {
        ledger.close();
      }
    };
    const ran = (state: ReturnType<typeof study>) => state.trials.filter((trial) => trial.status !== 'interrupted').map((trial) => trial.seq);

    // $1.50 after the third proposal: past $1.25, so the study pauses once #3 is done.
    expect((await strataProcess(repo, ['research'], { env })).code).toBe(0);
    let state = study();
    expect(state.study).toMatchObject({ state: 'paused', stopCause: 'oversight', stopReason: 'paused by oversight.pause_on.spend_usd: LLM spend reached $1.50 (crossed $1.25); review it, then strata resume' });
    expect(ran(state)).toEqual([0, 1, 2, 3]);
    expect(state.triggers.map((trigger) => `${trigger.condition} ${trigger.step}`)).toEqual(['spend_usd 1']);

    // Resumed: $2.00 after #4 stays under $2.50; $2.50 after #5 crosses it (and is 83% of max_usd: the one warning).
    expect((await strataProcess(repo, ['research'], { env })).code).toBe(0);
    state = study();
    expect(state.study.stopReason).toBe('paused by oversight.pause_on.spend_usd: LLM spend reached $2.50 (crossed $2.50); review it, then strata resume');
    expect(ran(state)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(state.triggers.map((trigger) => `${trigger.condition} ${trigger.step}`)).toEqual(['spend_usd 1', 'spend_usd 2']);

    // Resumed again: #6 brings spend to $3.00, the budget, and the study ends; no multiple is crossed twice, no warning sent again.
    expect((await strataProcess(repo, ['research'], { env })).code).toBe(0);
    state = study();
    expect(state.study.state).toBe('done');
    expect(state.spent).toBe(3);
    expect(state.triggers).toHaveLength(2);
    await until(() => hook.bodies.some((entry) => entry.body.topic === 'done'), 'the done notification');
    const warnings = hook.bodies.filter((entry) => entry.body.topic === 'budget_warning').map((entry) => entry.body);
    expect(warnings).toEqual([expect.objectContaining({ budget: 'llm.max_usd', trial: 5, text: "Strata · steer: 83% of the study's llm.max_usd budget is spent (after #5)" })]);
    expect(hook.bodies.map((entry) => entry.body.topic)).toEqual(['paused', 'budget_warning', 'paused', 'done']);
    expect(gitIn(repo, 'status', '--porcelain')).toBe('');
    const ledger = ledgerOf(repo);
    expect(checkLedger(ledger).ok).toBe(true);
    ledger.close();
  }, 180_000);
});

