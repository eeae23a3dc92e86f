/**
 * A stop at any moment of `strata evolve` (the model check, the seed's
 * scoring, an iteration) pauses the study with "stopped by the user; run
 * again to resume", exits 130 without a stack, and the next run resumes to
 * the same result an uninterrupted run reaches. Real processes, a loopback
 * model made slow where the signal should land.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StudyStoppedError } from '../../src/core/errors.ts';
import { optimize } from '../../src/evolve/optimize.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { LoopbackModelServer, type LoopbackReply, type LoopbackRequest } from '../helpers/loopback-model.ts';
import { STRATA_BIN, strataProcess, until, type StrataRun } from '../helpers/strata-process.ts';

const RULES: Record<string, string> = { refund: 'billing', invoice: 'billing', crash: 'bug', error: 'bug', password: 'account', login: 'account' };
const CHECK_PROMPT = 'Reply with the single word OK.';

/** Where the loopback model should be slow (a signal lands while it waits). */
const slow = { check: false, task: false, reflection: false };

const isCheck = (request: LoopbackRequest) => request.lastUserText === CHECK_PROMPT;
const isReflection = (request: LoopbackRequest) => request.lastUserText.includes('improving one part of the instructions');
const isTask = (request: LoopbackRequest) => !isCheck(request) && !isReflection(request);

/** The task model answers with the first `keyword -> category` rule of its system prompt matching the ticket; reflection adds the rule the feedback reveals. */
function triageModel(request: LoopbackRequest): LoopbackReply {
  if (isCheck(request)) return { text: 'OK', ...(slow.check ? { delayMs: 60_000 } : {}) };
  if (isReflection(request)) {
    const current = /```\n([\s\S]*?)\n```/.exec(request.lastUserText)?.[1] ?? '';
    const learned = [...request.lastUserText.matchAll(/keyword: (\w+)[\s\S]*?Expected "(\w+)"/g)].map(([, keyword, category]) => `${keyword} -> ${category}`).filter((rule) => !current.includes(rule));
    return { text: `\`\`\`\n${[current, ...new Set(learned.slice(0, 1))].join('\n')}\n\`\`\``, ...(slow.reflection ? { delayMs: 60_000 } : {}) };
  }
  const keyword = /keyword: (\w+)/.exec(request.lastUserText)?.[1] ?? '';
  const rule = new RegExp(`^${keyword} -> (\\w+)$`, 'm').exec(request.system);
  return { text: rule ? rule[1]! : 'unknown', usage: { input: 50, output: 2 }, ...(slow.task ? { delayMs: 400 } : {}) };
}

let server: LoopbackModelServer;
let root: string;
beforeAll(async () => {
  server = await LoopbackModelServer.start(triageModel);
  root = mkdtempSync(join(tmpdir(), 'strata-evolve-stop-'));
});
afterAll(async () => {
  await server.close();
  rmSync(root, { recursive: true, force: true });
});

function project(name: string): string {
  const dir = mkdtempSync(join(root, `${name}-`));
  const keywords = Object.keys(RULES);
  const lines = (prefix: string, n: number) =>
    Array.from({ length: n }, (_, i) => JSON.stringify({ id: `${prefix}${i}`, input: `keyword: ${keywords[i % keywords.length]}. Please help.`, answer: RULES[keywords[i % keywords.length]!] })).join('\n');
  mkdirSync(join(dir, 'data'));
  writeFileSync(join(dir, 'data', 'train.jsonl'), lines('t', 12));
  writeFileSync(join(dir, 'data', 'val.jsonl'), lines('v', 6));
  writeFileSync(join(dir, 'system.txt'), 'Classify the ticket as billing, bug or account.\n');
  const model = (id: string) => `{model: "openai-compatible:${id}", base_url: "${server.url}", prices: {input_per_mtok: 1, output_per_mtok: 4}}`;
  writeFileSync(
    join(dir, 'strata.yaml'),
    `name: triage
evolve:
  seed: {system_prompt: system.txt}
  data: {train: data/train.jsonl, val: data/val.jsonl}
  task_model: ${model('task')}
  reflection_model: ${model('reflect')}
  metric: {kind: exact}
  budget: {metric_calls: 40}
  concurrency: 2
`,
  );
  return dir;
}

function studyIn(dir: string) {
  const ledger = Ledger.open(join(dir, '.strata', 'ledger.db'));
  try {
    return ledger.studyByName('triage')!;
  } finally {
    ledger.close();
  }
}

/** What must be equal between an interrupted-and-resumed run and an uninterrupted one. */
function outcome(run: StrataRun) {
  const summary = JSON.parse(run.stdout) as Record<string, unknown>;
  return { best: summary.best, pool: summary.pool, metric_calls: summary.metric_calls, iterations: summary.iterations, proposals: summary.proposals, stop_reason: summary.stop_reason };
}

function expectQuietStop(run: StrataRun): void {
  expect(run.code, run.stderr).toBe(130);
  const all = run.stdout + run.stderr;
  expect(all).toContain('stopped by the user; run again to resume');
  expect(all).not.toMatch(/AbortError|invalid config|unexpected error|\n +at /);
}

let reference: ReturnType<typeof outcome>;

describe('Ctrl-C in strata evolve (real processes)', () => {
  it('an uninterrupted run, for reference', async () => {
    const run = await strataProcess(project('reference'), ['evolve', '--json']);
    expect(run.code, run.stderr).toBe(0);
    reference = outcome(run);
    expect(reference.iterations).toBeGreaterThan(1);
  });

  it('during the model check: paused, exit 130, one line; the next run resumes to the same result', async () => {
    const dir = project('check');
    slow.check = true;
    const seen = server.requests.length;
    const stopped = await strataProcess(dir, ['evolve', '--json'], {
      during: async (child) => {
        await until(() => server.requests.slice(seen).some(isCheck), 'the model check');
        child.kill('SIGINT');
      },
    }).finally(() => (slow.check = false));
    expectQuietStop(stopped);
    expect(studyIn(dir)).toMatchObject({ state: 'paused', stopReason: expect.stringContaining('stopped by the user; run again to resume') });

    const resumed = await strataProcess(dir, ['evolve', '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(outcome(resumed)).toEqual(reference);
  });

  it('during the seed scoring: paused, exit 130; the next run scores only what is missing and reaches the same result', async () => {
    const dir = project('seed');
    slow.task = true;
    const seen = server.requests.length;
    const stopped = await strataProcess(dir, ['evolve', '--json'], {
      during: async (child) => {
        // Two task calls answered and more in flight: the signal lands in the middle of the seed's validation.
        await until(() => server.requests.slice(seen).filter(isTask).length >= 3, 'the seed scoring');
        child.kill('SIGINT');
      },
    }).finally(() => (slow.task = false));
    expectQuietStop(stopped);
    expect(studyIn(dir).state).toBe('paused');

    const resumed = await strataProcess(dir, ['evolve', '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(outcome(resumed)).toEqual(reference);
  });

  it('during a reflection (SIGTERM): paused, exit 130; the next run reaches the same result', async () => {
    const dir = project('reflect');
    slow.reflection = true;
    const seen = server.requests.length;
    const stopped = await strataProcess(dir, ['evolve'], {
      during: async (child) => {
        await until(() => server.requests.slice(seen).some(isReflection), 'the first reflection');
        child.kill('SIGTERM');
      },
    }).finally(() => (slow.reflection = false));
    expectQuietStop(stopped);
    expect(studyIn(dir).state).toBe('paused');

    const resumed = await strataProcess(dir, ['evolve', '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(outcome(resumed)).toEqual(reference);
  });
});

describe('strata evolve | head (real process)', () => {
  it('a stdout closed after the first line pauses the study quietly; the next run reaches the same result', async () => {
    const dir = project('head');
    slow.task = true;
    const child = spawn(process.execPath, [STRATA_BIN, 'evolve'], { cwd: dir, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve)).finally(() => (slow.task = false));
    expect(code, stderr).toBe(0);
    expect(stderr).not.toMatch(/Error: write EPIPE|unexpected error|\n +at /);
    expect(stderr).toContain('stdout was closed');
    expect(studyIn(dir).state).toBe('paused');

    const resumed = await strataProcess(dir, ['evolve', '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(outcome(resumed)).toEqual(reference);
  });
});

describe('optimize() with a signal', () => {
  it('aborted during the model check: rejects with StudyStoppedError and leaves the study paused', async () => {
    const path = join(root, 'optimize-stop.db');
    slow.check = true;
    const controller = new AbortController();
    const seen = server.requests.length;
    const running = optimize({
      seed: { p: 'x' },
      trainset: [{ id: 'a', input: 1 }],
      valset: [{ id: 'b', input: 2 }],
      evaluate: async () => ({ score: 1 }),
      reflectionModel: { name: 'openai-compatible:r', provider: 'openai-compatible', modelId: 'r', baseUrl: server.url },
      budget: { metricCalls: 10 },
      checkModels: true,
      ledger: path,
      studyName: 'stop-check',
      signal: controller.signal,
    });
    await until(() => server.requests.slice(seen).some(isCheck), 'the model check');
    controller.abort();
    const error = await running.catch((caught: unknown) => caught).finally(() => (slow.check = false));
    expect(error).toBeInstanceOf(StudyStoppedError);
    expect((error as Error).message).toBe('stopped by the user; run again to resume');
    const ledger = Ledger.open(path);
    expect(ledger.studyByName('stop-check')).toMatchObject({ state: 'paused', stopReason: 'interrupted: stopped by the user; run again to resume' });
    ledger.close();
  });
});
