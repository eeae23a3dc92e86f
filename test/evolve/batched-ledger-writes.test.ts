/**
 * Evaluations share commits (a model call's end and its evaluation go with
 * the next call's start): the ledger a run leaves is the one writing each at
 * once would leave — every call finished, every evaluation recorded, the
 * state tables rebuilt from the events alone — and a run resumed from it
 * evaluates nothing twice.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTemplateEvaluator } from '../../src/evolve/evaluators/template-evaluator.ts';
import { optimize } from '../../src/evolve/optimize.ts';
import { checkLedger } from '../../src/ledger/ledger-check.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { sqlRow } from '../helpers/ledger-sql.ts';
import { LoopbackModelServer } from '../helpers/loopback-model.ts';
import { toyReflection } from './toy-task.ts';

let server: LoopbackModelServer;
let dir: string;
beforeAll(async () => {
  const reflect = toyReflection();
  // The task model answers "billing" to every ticket; reflection rewrites the prompt.
  server = await LoopbackModelServer.start((request) => (request.system.includes('Classify') ? { text: 'billing', usage: { input: 20, output: 1 } } : reflect(request)), { latencyMs: 5 });
  dir = mkdtempSync(join(tmpdir(), 'strata-batched-'));
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('evaluations written in shared commits', () => {
  it('leaves every call finished, every evaluation recorded and a ledger that rebuilds from its events; a resume re-evaluates nothing', async () => {
    const spec = { name: 'openai-compatible:loop', provider: 'openai-compatible' as const, modelId: 'loop', baseUrl: server.url, prices: { inputPerMtok: 1, outputPerMtok: 1 } };
    const { evaluate, version } = createTemplateEvaluator({ taskModel: spec, metric: { kind: 'exact', ignoreCase: true }, template: { system: 'Classify. {system_prompt}', user: '{input}' }, task: { maxOutputTokens: 8 } });
    const examples = Array.from({ length: 40 }, (_, i) => ({ id: `e${i}`, input: `ticket ${i}`, answer: i % 4 === 0 ? 'bug' : 'billing' }));
    const path = join(dir, 'ledger.db');
    const run = () =>
      optimize({
        seed: { system_prompt: 'Answer with one word.' },
        trainset: examples.slice(0, 10),
        valset: examples.slice(10),
        evaluate,
        evaluatorVersion: version,
        reflectionModel: spec,
        budget: { metricCalls: 120 },
        concurrency: 8,
        ledger: path,
      });
    const first = await run();
    const calls = sqlRow(path, "SELECT COUNT(*) AS n, SUM(latency_ms IS NULL) AS unfinished FROM llm_calls WHERE role = 'task'")!;
    const evaluations = sqlRow(path, 'SELECT COUNT(*) AS n FROM evaluations')!;
    expect(Number(calls.unfinished)).toBe(0);
    expect(Number(evaluations.n)).toBe(first.budget.metricCalls);
    expect(Number(calls.n)).toBe(first.budget.metricCalls);
    const ledger = Ledger.open(path);
    try {
      expect(checkLedger(ledger).differences).toEqual([]);
    } finally {
      ledger.close();
    }
    const requestsBefore = server.requests.length;
    const resumed = await run();
    expect(resumed.budget.metricCalls).toBe(first.budget.metricCalls);
    expect(server.requests.length).toBe(requestsBefore);
  });
});
