/**
 * Oversight of evolve studies: `oversight.pause_on` and `notify` of
 * strata.yaml reach `strata evolve`, `strata pause` from another process lets
 * the running iteration finish, and a condition with no meaning for evolve is
 * a config error at its dot path. Real processes, the loopback model (task
 * and reflection), a loopback webhook receiver.
 */
import { createServer, type Server } from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.ts';
import { normalizeOversight } from '../../src/core/config/oversight-config.ts';
import { optimize } from '../../src/evolve/optimize.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { checkLedger } from '../../src/ledger/ledger-check.ts';
import { LoopbackModelServer, type LoopbackReply, type LoopbackRequest } from '../helpers/loopback-model.ts';
import { strataProcess, until } from '../helpers/strata-process.ts';

const RULES: Record<string, string> = { refund: 'billing', invoice: 'billing', crash: 'bug', error: 'bug', password: 'account', login: 'account' };
const isCheck = (request: LoopbackRequest) => request.lastUserText === 'Reply with the single word OK.';
const isReflection = (request: LoopbackRequest) => request.lastUserText.includes('improving one part of the instructions');
/** Task calls are slowed by this much (so a pause lands inside an iteration). */
let taskDelayMs = 0;
/** The reflection model answers with no fenced text (a failed reflection). */
let reflectionBroken = false;

/** The task model answers with the rule of its system prompt for the ticket's keyword; reflection adds the one rule the feedback reveals. */
function triageModel(request: LoopbackRequest): LoopbackReply {
  if (isCheck(request)) return { text: 'OK' };
  if (isReflection(request)) {
    if (reflectionBroken) return { text: 'I would rather not.' };
    const current = /```\n([\s\S]*?)\n```/.exec(request.lastUserText)?.[1] ?? '';
    const learned = [...request.lastUserText.matchAll(/keyword: (\w+)[\s\S]*?Expected "(\w+)"/g)].map(([, keyword, category]) => `${keyword} -> ${category}`).filter((rule) => !current.includes(rule));
    return { text: `\`\`\`\n${[current, ...new Set(learned.slice(0, 1))].join('\n')}\n\`\`\`` };
  }
  const keyword = /keyword: (\w+)/.exec(request.lastUserText)?.[1] ?? '';
  const rule = new RegExp(`^${keyword} -> (\\w+)$`, 'm').exec(request.system);
  return { text: rule ? rule[1]! : 'unknown', usage: { input: 50, output: 2 }, ...(taskDelayMs ? { delayMs: taskDelayMs } : {}) };
}

let model: LoopbackModelServer;
let root: string;
const servers: Server[] = [];
beforeAll(async () => {
  model = await LoopbackModelServer.start(triageModel);
  root = mkdtempSync(join(tmpdir(), 'strata-evolve-oversight-'));
});
afterAll(async () => {
  await model.close();
  rmSync(root, { recursive: true, force: true });
});
afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
  taskDelayMs = 0;
  reflectionBroken = false;
});

/** A loopback webhook receiver recording every body; its URL carries a secret. */
async function receiver() {
  const bodies: Record<string, unknown>[] = [];
  const server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => {
      bodies.push(JSON.parse(text) as Record<string, unknown>);
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hooks/SECRET-TOKEN-456`, bodies };
}

/** An evolve project: triage tickets, an exact metric, the loopback model for task and reflection. */
function project(name: string, extra: string, options: { metricCalls?: number; test?: boolean } = {}): string {
  const dir = mkdtempSync(join(root, `${name}-`));
  const keywords = Object.keys(RULES);
  const lines = (prefix: string, n: number) =>
    Array.from({ length: n }, (_, i) => JSON.stringify({ id: `${prefix}${i}`, input: `keyword: ${keywords[i % keywords.length]}. Please help.`, answer: RULES[keywords[i % keywords.length]!] })).join('\n');
  mkdirSync(join(dir, 'data'));
  writeFileSync(join(dir, 'data', 'train.jsonl'), lines('t', 12));
  writeFileSync(join(dir, 'data', 'val.jsonl'), lines('v', 6));
  writeFileSync(join(dir, 'system.txt'), 'Classify the ticket as billing, bug or account.\n');
  const llm = (id: string) => `{model: "openai-compatible:${id}", base_url: "${model.url}", prices: {input_per_mtok: 1, output_per_mtok: 4}}`;
  writeFileSync(
    join(dir, 'strata.yaml'),
    `name: triage
evolve:
  seed: {system_prompt: system.txt}
  data: {train: data/train.jsonl, val: data/val.jsonl${options.test ? ', test: data/val.jsonl' : ''}}
  task_model: ${llm('task')}
  reflection_model: ${llm('reflect')}
  metric: {kind: exact}
  budget: {metric_calls: ${options.metricCalls ?? 60}}
  concurrency: 2
${extra}`,
  );
  return dir;
}

function inLedger<T>(dir: string, read: (ledger: Ledger, studyId: number) => T): T {
  const ledger = Ledger.open(join(dir, '.strata', 'ledger.db'));
  try {
    return read(ledger, ledger.studyByName('triage')!.id);
  } finally {
    ledger.close();
  }
}

describe('oversight of strata evolve (real processes)', () => {
  it('pause_on new_best pauses after the first new best and says why; the next run resumes it; notify gets new_best, paused and done, never the URL', async () => {
    const hook = await receiver();
    const oversight = (pause: string) => `oversight:\n  pause_on: {${pause}}\n  notify:\n    - webhook: {url_env: STRATA_TEST_WEBHOOK}\n      on: [new_best, paused, done]\n`;
    const dir = project('new-best', oversight('new_best: true'));
    const env = { STRATA_TEST_WEBHOOK: hook.url };

    const first = await strataProcess(dir, ['evolve', '--json'], { env });
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ stop_reason: 'paused', best: { idx: 1 } });
    const paused = inLedger(dir, (ledger, id) => ({ study: ledger.study(id), pool: ledger.evolve.pool(id).length, triggers: ledger.oversight.records(id, 'oversight.pause_triggered').map((record) => record.payload) }));
    expect(paused.study).toMatchObject({ state: 'paused', stopCause: 'oversight' });
    expect(paused.study.stopReason).toMatch(/^paused by oversight\.pause_on\.new_best: #1 is the new best \(validation 0\.\d+, was 0(\.\d+)?\): rewrote system_prompt of #0; review it, then strata resume$/);
    // Paused right after the iteration that found it: the seed and #1, nothing proposed after.
    expect(paused.pool).toBe(2);
    expect(paused.triggers.map((trigger) => trigger.condition)).toEqual(['new_best']);
    await until(() => hook.bodies.length >= 2, 'new_best and paused notifications');
    expect(hook.bodies.map((body) => body.topic)).toEqual(['new_best', 'paused']);
    expect(hook.bodies[0]).toMatchObject({ study: 'triage', candidate: 1, text: expect.stringMatching(/^Strata · triage: #1 is the new best/) });

    // The next run resumes where it paused, and pauses at the next new best (a new condition each time, not the old one again).
    const second = await strataProcess(dir, ['evolve', '--json'], { env });
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ stop_reason: 'paused', best: { idx: 2 } });
    expect(inLedger(dir, (ledger, id) => ledger.study(id).stopReason)).toMatch(/^paused by oversight\.pause_on\.new_best: #2 is the new best/);

    // Without the pause, it runs to its budget and says it is done.
    writeFileSync(join(dir, 'strata.yaml'), readFileSync(join(dir, 'strata.yaml'), 'utf8').replace('new_best: true', 'crash_streak: 50'));
    const third = await strataProcess(dir, ['evolve', '--json'], { env });
    expect(third.code, third.stderr).toBe(0);
    expect(JSON.parse(third.stdout).stop_reason).toBe('metric_calls');
    await until(() => hook.bodies.some((body) => body.topic === 'done'), 'the done notification');
    const topics = hook.bodies.map((body) => body.topic);
    expect(topics.slice(0, 4)).toEqual(['new_best', 'paused', 'new_best', 'paused']);
    expect(topics.at(-1)).toBe('done');
    inLedger(dir, (ledger, id) => {
      expect(ledger.study(id).state).toBe('done');
      const deliveries = ledger.oversight.records(id, 'oversight.notification').map((record) => record.payload);
      expect(deliveries.length).toBe(hook.bodies.length);
      expect(deliveries.every((delivery) => delivery.outcome === 'delivered' && delivery.target === 'webhook STRATA_TEST_WEBHOOK')).toBe(true);
      expect(JSON.stringify(ledger.events())).not.toContain('SECRET-TOKEN-456');
      expect(checkLedger(ledger).ok).toBe(true);
    });
    for (const run of [first, second, third]) expect(run.stdout + run.stderr).not.toContain('SECRET-TOKEN-456');
  }, 120_000);

  it('strata pause from another process lets the running iteration finish, then the study pauses; strata resume --print says how to go on', async () => {
    const dir = project('pause', '', { metricCalls: 200 });
    taskDelayMs = 300;
    const seen = model.requests.length;
    const run = await strataProcess(dir, ['evolve'], {
      during: async () => {
        // The first reflection has been asked for: iteration 1 is under way (its child's evaluations are slow).
        await until(() => model.requests.slice(seen).some(isReflection), 'an iteration under way', 60_000);
        const pause = await strataProcess(dir, ['pause', '--why', 'lunch']);
        expect(pause.code, pause.stderr).toBe(0);
        expect(pause.stdout).toMatch(/study triage: pausing after the running iteration finishes/);
      },
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/stopped: paused — paused by \S+ from the cli: lunch; resume with strata resume/);
    inLedger(dir, (ledger, id) => {
      expect(ledger.study(id)).toMatchObject({ state: 'paused', stopCause: 'oversight', stopReason: expect.stringMatching(/^paused by \S+ from the cli: lunch; resume with strata resume$/) });
      // Every iteration begun was finished: the last one recorded is whole, and no evaluation belongs to a later one.
      const last = ledger.evolve.lastIteration(id)!;
      const evaluations = ledger.evolve.recordedEvaluations(id);
      expect(evaluations.every((evaluation) => evaluation.iteration <= last.iteration)).toBe(true);
      expect(ledger.oversight.records(id, 'oversight.control_applied').map((record) => record.payload.outcome)).toEqual(['pausing after the running iteration finishes']);
    });
    const print = await strataProcess(dir, ['resume', '--print']);
    expect(print.stdout).toMatch(/study triage is paused; resume it in the foreground with: strata evolve --config /);
  }, 120_000);

  it('a pause_on condition with no meaning for evolve is a config error at its dot path, before anything runs', async () => {
    const diff = project('diff-lines', 'oversight:\n  pause_on: {diff_lines: 200}\n');
    const refused = await strataProcess(diff, ['evolve']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/oversight\.pause_on\.diff_lines: an evolve study keeps rewritten texts, not code changes/);
    expect(refused.stderr).not.toMatch(/\n +at /);
    const gap = project('holdout-gap', 'oversight:\n  pause_on: {holdout_gap: 0.1, diff_lines: 5}\n');
    const both = await strataProcess(gap, ['evolve']);
    expect(both.code).toBe(1);
    expect(both.stderr).toMatch(/oversight\.pause_on\.holdout_gap: needs a held-out split to score each new best on: set evolve\.data\.test/);
    expect(both.stderr).toMatch(/oversight\.pause_on\.diff_lines/);
    // With a test split, holdout_gap is accepted.
    const fine = await strataProcess(project('holdout-ok', 'oversight:\n  pause_on: {holdout_gap: 0.5}\n', { metricCalls: 30, test: true }), ['evolve', '--json']);
    expect(fine.code, fine.stderr).toBe(0);
  }, 120_000);
});

describe('optimize() with oversight', () => {
  const reflectionModel = () => ({ name: 'openai-compatible:reflect', provider: 'openai-compatible' as const, modelId: 'reflect', baseUrl: model.url });
  const trainset = Object.keys(RULES).map((keyword, i) => ({ id: `t${i}`, keyword }));

  it('crash_streak pauses after N iterations in a row whose reflection failed, once', async () => {
    reflectionBroken = true;
    const ledger = Ledger.open(':memory:');
    const result = await optimize({
      seed: { system_prompt: 'Classify.' },
      trainset,
      valset: trainset,
      evaluate: async (candidate, example) => ({ score: candidate.system_prompt!.includes(example.keyword) ? 1 : 0, feedback: `keyword: ${example.keyword} Expected "${RULES[example.keyword]}"` }),
      reflectionModel: reflectionModel(),
      budget: { metricCalls: 200 },
      reflection: { attempts: 1 },
      ledger,
      studyName: 'streak',
      oversight: normalizeOversight({ pause_on: { crash_streak: 3 } }),
    });
    expect(result.stopReason).toBe('paused');
    expect(result.stopDetail).toMatch(/^paused by oversight\.pause_on\.crash_streak: 3 iterations in a row failed \(the last, 3: the reflection gave no usable rewrite\)/);
    expect(result.budget.iterations).toBe(3);
    const study = ledger.studyByName('streak')!;
    expect(study).toMatchObject({ state: 'paused', stopCause: 'oversight' });
    expect(ledger.oversight.records(study.id, 'oversight.pause_triggered').map((record) => record.payload.condition)).toEqual(['crash_streak']);
    ledger.close();
  });

  it('holdout_gap pauses when a new best scores worse on the test split than the best it replaced', async () => {
    const ledger = Ledger.open(':memory:');
    // Validation rewards learning rules; the test split punishes each rule learned (it wants "unknown"): overfitting.
    const testset = trainset.map((example) => ({ ...example, id: `x${example.id}`, test: true }));
    const result = await optimize<{ id: string; keyword: string; test?: boolean }>({
      seed: { system_prompt: 'Classify.' },
      trainset,
      valset: trainset,
      testset,
      evaluate: async (candidate, example) => {
        const knows = candidate.system_prompt!.includes(`${example.keyword} ->`);
        if (example.test) return { score: knows ? 0 : 1 };
        return { score: knows ? 1 : 0, feedback: knows ? 'correct' : `keyword: ${example.keyword} Expected "${RULES[example.keyword]}"` };
      },
      reflectionModel: reflectionModel(),
      budget: { metricCalls: 200 },
      ledger,
      studyName: 'gap',
      oversight: normalizeOversight({ pause_on: { holdout_gap: 0.1 } }),
    });
    expect(result.stopReason).toBe('paused');
    expect(result.stopDetail).toMatch(/^paused by oversight\.pause_on\.holdout_gap: new best #1 improved validation \(0\.1667 against 0\) but its test score got worse: 0\.8333 against 1 for #0 \(by 0\.1667, more than 0\.1\): it may overfit the validation set/);
    ledger.close();
  });

  it('spend_usd pauses each time spend crosses a multiple, once per multiple across resumes; budget_warning is sent once, at 80% of metric_calls', async () => {
    // Every reflection costs $1: a million input tokens at $1 per million.
    const priced = await LoopbackModelServer.start((request) => ({ ...triageModel(request), usage: { input: 1_000_000, output: 0 } }));
    const events = join(mkdtempSync(join(root, 'events-')), 'events.jsonl');
    const ledger = Ledger.open(':memory:');
    const trainset12 = Array.from({ length: 12 }, (_, i) => ({ id: `t${i}`, keyword: Object.keys(RULES)[i % 6]! }));
    const run = () =>
      optimize({
        seed: { system_prompt: 'Classify.' },
        trainset: trainset12,
        valset: trainset12.slice(0, 6),
        evaluate: async (candidate, example) => ({ score: candidate.system_prompt!.includes(`${example.keyword} ->`) ? 1 : 0, feedback: `keyword: ${example.keyword} Expected "${RULES[example.keyword]}"` }),
        reflectionModel: { ...reflectionModel(), baseUrl: priced.url, prices: { inputPerMtok: 1, outputPerMtok: 0 } },
        budget: { metricCalls: 60 },
        ledger,
        studyName: 'spend',
        oversight: normalizeOversight({ pause_on: { spend_usd: 2 }, notify: [{ command: `cat >> ${JSON.stringify(events)}`, on: ['budget_warning'] }] }),
      });
    try {
      const stops: string[] = [];
      for (let runs = 0; runs < 20; runs++) {
        const result = await run();
        stops.push(`${result.stopReason} $${result.budget.usd}`);
        if (result.stopReason !== 'paused') break;
      }
      const study = ledger.studyByName('spend')!;
      const triggers = ledger.oversight.records(study.id, 'oversight.pause_triggered').map((record) => `${record.payload.condition} ${record.payload.step}`);
      // One pause per multiple of $2, each right after the reflection that crossed it, never the same one twice.
      expect(stops.length).toBeGreaterThan(2);
      expect(stops.slice(0, -1)).toEqual(stops.slice(0, -1).map((_, i) => `paused $${2 * (i + 1)}`));
      expect(triggers).toEqual(stops.slice(0, -1).map((_, i) => `spend_usd ${i + 1}`));
      expect(study.state).toBe('done');
      const warnings = readFileSync(events, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(warnings).toEqual([expect.objectContaining({ topic: 'budget_warning', budget: 'metric_calls', study: 'spend' })]);
      expect(warnings[0]!.share as number).toBeGreaterThanOrEqual(0.8);
    } finally {
      ledger.close();
      await priced.close();
    }
  });

  it('diffLines, and holdoutGap without a testset, are refused at their option path', async () => {
    const run = (pause: Parameters<typeof normalizeOversight>[0]) =>
      optimize({ seed: { p: 'x' }, trainset, valset: trainset, evaluate: async () => ({ score: 1 }), reflectionModel: reflectionModel(), budget: { metricCalls: 10 }, oversight: normalizeOversight(pause) });
    const error = await run({ pause_on: { diff_lines: 3, holdout_gap: 0.1 } }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.map((issue) => issue.path)).toEqual(['oversight.pauseOn.diffLines', 'oversight.pauseOn.holdoutGap']);
  });
});
