/**
 * Every way an evaluator can misbehave ends in a decision: the example
 * scores as a failure with feedback naming what was wrong, or, when the
 * evaluator never produces a valid score, the study stops `failed` with one
 * line saying what it printed and what it must print. Never an uncaught
 * exception, never a study left `running`.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EvaluatorError } from '../../src/core/errors.ts';
import { createCommandEvaluator } from '../../src/evolve/evaluators/command-evaluator.ts';
import { createTemplateEvaluator } from '../../src/evolve/evaluators/template-evaluator.ts';
import { optimize } from '../../src/evolve/optimize.ts';
import type { EvaluationContext, Evaluate } from '../../src/evolve/types.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { UsdBudget } from '../../src/llm/usd-budget.ts';
import { LoopbackModelServer } from '../helpers/loopback-model.ts';
import { strataProcess } from '../helpers/strata-process.ts';
import { toyExamples, toyReflection, type ToyExample } from './toy-task.ts';

let server: LoopbackModelServer;
let root: string;
beforeAll(async () => {
  server = await LoopbackModelServer.start(toyReflection());
  root = mkdtempSync(join(tmpdir(), 'strata-evaluator-faults-'));
});
afterAll(async () => {
  await server.close();
  rmSync(root, { recursive: true, force: true });
});

function context(): EvaluationContext {
  const ledger = Ledger.open(':memory:');
  return { split: 'val', exampleId: 'e', seed: 1, signal: new AbortController().signal, study: { ledger, studyId: 1, usd: new UsdBudget(null) } };
}

describe('the command evaluator reads malformed output as a failed evaluation', () => {
  const evaluatorFor = (script: string) => {
    const dir = mkdtempSync(join(root, 'cmd-'));
    writeFileSync(join(dir, 'score.sh'), script);
    return createCommandEvaluator({ command: 'sh score.sh', cwd: dir, timeoutMs: 10_000 });
  };

  it('no JSON line: rejects (never throws from an event handler) naming what it printed and what to print', async () => {
    const { evaluate } = evaluatorFor('cat >/dev/null; echo "hello, not json"\n');
    const outcome = evaluate({ p: 'x' }, { input: 1 }, context());
    await expect(outcome).rejects.toThrow(/printed no JSON result line.*"hello, not json\\n".*must print.*\{"score": <a finite number>/);
  });

  it('"score": "NaN", a missing score and an infinite one: rejects saying "score" must be a finite number', async () => {
    for (const line of ['{"score": "NaN"}', '{"feedback": "no score"}', '{"score": 1e999}']) {
      const { evaluate } = evaluatorFor(`cat >/dev/null; echo '${line}'\n`);
      await expect(evaluate({ p: 'x' }, { input: 1 }, context())).rejects.toThrow(/"score" must be a finite number/);
    }
  });

  it('objectives that are not finite numbers are named', async () => {
    const { evaluate } = evaluatorFor(`cat >/dev/null; echo '{"score": 1, "objectives": {"speed": "fast"}}'\n`);
    await expect(evaluate({ p: 'x' }, { input: 1 }, context())).rejects.toThrow(/"objectives"\.speed must be a finite number/);
  });

  it('keeps the end of a long stdout, where the result line is', async () => {
    // 2 MB of log lines before the result: the result is the last line, so the tail is what counts.
    const { evaluate } = evaluatorFor(`cat >/dev/null; i=0; while [ $i -lt 20000 ]; do echo "log line $i ${'x'.repeat(90)}"; i=$((i+1)); done; echo '{"score": 0.25}'\n`);
    await expect(evaluate({ p: 'x' }, { input: 1 }, context())).resolves.toEqual({ score: 0.25 });
  });
});

describe('a user evaluate() that misbehaves', () => {
  const data = { trainset: toyExamples('t', 4), valset: toyExamples('v', 5) };
  const run = (evaluate: Evaluate<ToyExample>, budget = 30) =>
    optimize({ seed: { p: 'seed' }, ...data, evaluate, reflectionModel: { name: 'openai-compatible:r', provider: 'openai-compatible', modelId: 'r', baseUrl: server.url }, budget: { metricCalls: budget }, merge: false });

  it('on some examples (bad objectives, unstorable trace, a thrown string, undefined): those score as failures with the reason, the run goes on', async () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const bad: Record<string, () => unknown> = {
      v0: () => ({ score: 1, objectives: { quality: Number.NaN } }),
      v1: () => ({ score: 1, trace: circular }),
      v2: () => {
        throw 'a plain string';
      },
    };
    const result = await run(async (candidate, example) => {
      const misbehave = bad[example.id];
      if (misbehave) return misbehave() as never;
      if (example.id === 'v3') return undefined as never;
      return { score: candidate.p!.includes(example.answer) ? 1 : 0, feedback: `expected ${example.answer}` };
    });
    expect(result.pool[0]!.valScores).toEqual({ v0: 0, v1: 0, v2: 0, v3: 0, v4: 0 });
    expect(result.stopReason).toBe('metric_calls');
  });

  it('on every validation example of the seed: the study stops failed with one line naming the first failure', async () => {
    const path = join(root, 'user-evaluate.db');
    const failing = () =>
      optimize({
        seed: { p: 'seed' },
        ...data,
        evaluate: async () => ({ score: 'high' }) as never,
        reflectionModel: { name: 'openai-compatible:r', provider: 'openai-compatible', modelId: 'r', baseUrl: server.url },
        budget: { metricCalls: 30 },
        ledger: path,
        studyName: 'never-valid',
      });
    const error = await failing().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(EvaluatorError);
    expect((error as Error).message).not.toContain('\n');
    expect((error as Error).message).toMatch(/every validation example of the seed \(5 of 5\).*"score":"high".*expected \{ score: <finite number>/);
    const ledger = Ledger.open(path);
    const study = ledger.studyByName('never-valid')!;
    ledger.close();
    expect(study.state).toBe('failed');
    expect(study.stopReason).toContain('every validation example of the seed');
  });
});

describe('evaluators that stop being usable', () => {
  const data = { trainset: toyExamples('t', 4), valset: toyExamples('v', 4) };
  const reflectionModel = () => ({ name: 'openai-compatible:r', provider: 'openai-compatible' as const, modelId: 'r', baseUrl: server.url });

  it('a key refused by the task model provider after the seed (HTTP 401): the study pauses saying so, no zero is cached, and the next run evaluates those examples', async () => {
    let refuse = false;
    const task = await LoopbackModelServer.start((request) => (refuse ? { status: 401, error: 'invalid api key' } : { text: request.system.includes('alpha') ? 'alpha' : 'unknown' }));
    try {
      const path = join(root, 'refused-key.db');
      const taskModel = { name: 'openai-compatible:task', provider: 'openai-compatible' as const, modelId: 'task', baseUrl: task.url };
      const { evaluate, version } = createTemplateEvaluator({ taskModel, metric: { kind: 'exact', ignoreCase: true }, template: { user: '{input}' }, task: { maxOutputTokens: 16 }, llm: { maxRetries: 0 } });
      const examples = (prefix: string) => toyExamples(prefix, 4).map(({ id, input, answer }) => ({ id, input, answer }));
      const run = () =>
        optimize({ seed: { p: 'seed' }, trainset: examples('t'), valset: examples('v'), evaluate, evaluatorVersion: version, reflectionModel: reflectionModel(), budget: { metricCalls: 24 }, merge: false, ledger: path, studyName: 'refused-key' });
      const seen = task.requests.length;
      // The seed's validation (4 calls) goes through; then the key is refused.
      const waitForSeed = (async () => {
        while (task.requests.length - seen < 4) await new Promise((resolve) => setTimeout(resolve, 5));
        refuse = true;
      })();
      const error = await run().catch((caught: unknown) => caught);
      await waitForSeed;
      expect((error as Error).message).toMatch(/refused the key \(HTTP 401\)/);
      let ledger = Ledger.open(path);
      let study = ledger.studyByName('refused-key')!;
      const feedback = ledger.events(study.id).filter((event) => event.type === 'evolve.evaluation_recorded').map((event) => String((event.payload as { feedback: string | null }).feedback));
      ledger.close();
      expect(study.state).toBe('paused');
      expect(study.stopReason).toMatch(/refused the key/);
      expect(feedback.filter((text) => text.includes('refused'))).toEqual([]);

      refuse = false;
      const result = await run();
      expect(result.resumed).toBe(true);
      ledger = Ledger.open(path);
      study = ledger.studyByName('refused-key')!;
      ledger.close();
      expect(study.state).toBe('done');
    } finally {
      await task.close();
    }
  });
});

describe('strata evolve with a metric command that prints no valid score (real process)', () => {
  it('stops failed with one line, no stack; fixed and run again, the seed is scored anew and the study finishes', async () => {
    const dir = mkdtempSync(join(root, 'cli-'));
    mkdirSync(join(dir, 'data'));
    const examples = (prefix: string) => toyExamples(prefix, 4).map((example) => JSON.stringify(example)).join('\n');
    writeFileSync(join(dir, 'data', 'train.jsonl'), examples('t'));
    writeFileSync(join(dir, 'data', 'val.jsonl'), examples('v'));
    writeFileSync(join(dir, 'seed.txt'), 'seed\n');
    writeFileSync(join(dir, 'score.sh'), 'cat >/dev/null\necho "hello, not json"\n');
    chmodSync(join(dir, 'score.sh'), 0o755);
    writeFileSync(
      join(dir, 'strata.yaml'),
      `name: cmd
evolve:
  seed: {p: seed.txt}
  data: {train: data/train.jsonl, val: data/val.jsonl}
  reflection_model: {model: "openai-compatible:r", base_url: "${server.url}"}
  metric: {kind: command, command: "sh score.sh"}
  budget: {metric_calls: 20}
  merge: false
`,
    );
    const first = await strataProcess(dir, ['evolve']);
    expect(first.code, first.stderr).toBe(1);
    const lines = first.stderr.trim().split('\n');
    expect(lines, first.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^strata evolve: the evaluator failed on every validation example of the seed \(4 of 4\)/);
    expect(lines[0]).toContain('printed no JSON result line');
    expect(lines[0]).toContain('"hello, not json\\n"');
    expect(lines[0]).toMatch(/must print .*\{"score": <a finite number>/);
    const ledgerPath = join(dir, '.strata', 'ledger.db');
    let ledger = Ledger.open(ledgerPath);
    expect(ledger.studyByName('cmd')!.state).toBe('failed');
    ledger.close();

    // The user fixes the script (the command line is unchanged): the seed's failures were not cached, so it is run again.
    writeFileSync(join(dir, 'score.sh'), `cat >/dev/null\necho '{"score": 0, "feedback": "expected alpha"}'\n`);
    const second = await strataProcess(dir, ['evolve', '--json']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toBe('');
    const summary = JSON.parse(second.stdout) as { seed_val_mean: number; metric_calls: number };
    expect(summary.seed_val_mean).toBe(0);
    expect(summary.metric_calls).toBeGreaterThanOrEqual(4);
    ledger = Ledger.open(ledgerPath);
    expect(ledger.studyByName('cmd')!.state).toBe('done');
    ledger.close();
  });
});
