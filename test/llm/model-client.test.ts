import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ModelSpec } from '../../src/core/config/llm-config.ts';
import { BudgetExhaustedError } from '../../src/core/errors.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { LlmCallError, LlmConfigError, LlmUnavailableError } from '../../src/llm/errors.ts';
import { ModelClient } from '../../src/llm/model-client.ts';
import { UsdBudget } from '../../src/llm/usd-budget.ts';
import { sqlRows } from '../helpers/ledger-sql.ts';
import { LoopbackModelServer, type LoopbackScript } from '../helpers/loopback-model.ts';

let server: LoopbackModelServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const FAST_RETRY = { baseDelayMs: 5, maxDelayMs: 20 };

async function setup(script: LoopbackScript, spec: Partial<ModelSpec> = {}) {
  server = await LoopbackModelServer.start(script);
  // On a file, so the test can read llm_calls through its own connection.
  const ledger = Ledger.open(join(mkdtempSync(join(tmpdir(), 'strata-calls-')), 'ledger.db'));
  const model: ModelSpec = { name: 'openai:gpt-4.1-mini', provider: 'openai', modelId: 'gpt-4.1-mini', baseUrl: server.url, ...spec };
  return { server, ledger, model, env: { OPENAI_API_KEY: 'test-key' } };
}

function calls(ledger: Ledger) {
  return sqlRows(ledger, 'SELECT * FROM llm_calls ORDER BY id');
}

// Every case twice: through generateText, and with `direct` (plain text calls straight to the model's doGenerate), which must read replies and fail the same way.
describe.each([false, true])('ModelClient over loopback HTTP (direct: %s)', (direct) => {
  it('records a successful call with tokens, USD from the price table, latency and finish reason', async () => {
    const { ledger, model, env } = await setup([{ text: 'hello', usage: { input: 1000, output: 500 } }]);
    const client = new ModelClient({ direct, model, ledger, env });
    const reply = await client.call({ role: 'reflection', system: 'be brief', prompt: 'say hello' });
    expect(reply.text).toBe('hello');
    expect(reply.finishReason).toBe('stop');
    expect(reply.usd).toBeCloseTo((1000 * 0.4 + 500 * 1.6) / 1e6, 12);
    const [row] = calls(ledger);
    expect(row).toMatchObject({ role: 'reflection', model: 'openai:gpt-4.1-mini', input_tokens: 1000, output_tokens: 500, finish_reason: 'stop', error: null, response_text: 'hello' });
    expect(Number(row!.latency_ms)).toBeGreaterThanOrEqual(0);
    expect(JSON.parse(String(row!.request_json))).toMatchObject({ system: 'be brief', prompt: 'say hello' });
    expect(server!.requests[0]!.headers.authorization).toBe('Bearer test-key');
  });

  it('waits as long as Retry-After says on a 429, then succeeds; every attempt is a ledger row', async () => {
    const { ledger, model, env } = await setup([{ status: 429, headers: { 'retry-after': '0.3' } }, { text: 'ok' }]);
    const client = new ModelClient({ direct, model, ledger, env, retry: FAST_RETRY });
    const started = Date.now();
    const reply = await client.call({ role: 'task', prompt: 'x' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(reply.attempts).toBe(2);
    const rows = calls(ledger);
    expect(rows).toHaveLength(2);
    expect(String(rows[0]!.error)).toMatch(/^rate_limit/);
    expect(rows[0]!.usd).toBe(0);
  });

  it('backs off on 5xx and gives up with LlmUnavailableError after max retries', async () => {
    const { ledger, model, env } = await setup(() => ({ status: 503, error: 'overloaded' }));
    const client = new ModelClient({ direct, model, ledger, env, retry: { ...FAST_RETRY, maxRetries: 2 } });
    const error = await client.call({ role: 'task', prompt: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LlmUnavailableError);
    expect((error as Error).message).toMatch(/after 3 attempts.*pauses/);
    expect(server!.requests).toHaveLength(3);
  });

  it('times out a slow response per attempt and retries', async () => {
    const { model, env } = await setup([{ text: 'late', delayMs: 2000 }, { text: 'on time' }]);
    const client = new ModelClient({ direct, model, env, timeoutMs: 200, retry: FAST_RETRY });
    const reply = await client.call({ role: 'task', prompt: 'x' });
    expect(reply.text).toBe('on time');
    expect(reply.attempts).toBe(2);
  });

  it('does not retry a refused key and names the variable to fix', async () => {
    const { model, env } = await setup([{ status: 401, error: 'bad key' }]);
    const client = new ModelClient({ direct, model: { ...model, apiKeyEnv: 'MY_KEY' }, env: { MY_KEY: 'k' }, retry: FAST_RETRY });
    void env;
    const error = await client.call({ role: 'task', prompt: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LlmCallError);
    expect((error as Error).message).toMatch(/MY_KEY/);
    expect(server!.requests).toHaveLength(1);
  });

  it('reports an unknown model (404) without retrying, and a malformed reply as a call error', async () => {
    const { model, env } = await setup([{ status: 404, error: 'model not found' }, { body: '{"nonsense": ' }]);
    const client = new ModelClient({ direct, model, env, retry: FAST_RETRY });
    await expect(client.call({ role: 'check', prompt: 'x' })).rejects.toThrow(/does not know this model/);
    await expect(client.call({ role: 'task', prompt: 'x' })).rejects.toBeInstanceOf(LlmCallError);
  });

  it('refuses a call before making it when the reservation would cross the USD cap', async () => {
    const { ledger, model, env } = await setup([{ text: 'a', usage: { input: 10, output: 10 } }]);
    // gpt-4.1-mini output: $1.6/Mtok; 4096 tokens reserved ≈ $0.0066 > cap.
    const budget = new UsdBudget(0.005);
    const client = new ModelClient({ direct, model, ledger, env, budget });
    await expect(client.call({ role: 'task', prompt: 'x' })).rejects.toBeInstanceOf(BudgetExhaustedError);
    expect(server!.requests).toHaveLength(0);
    const reply = await client.call({ role: 'task', prompt: 'x', maxOutputTokens: 100 });
    expect(budget.spent).toBeCloseTo(reply.usd!, 12);
    expect(budget.reserved).toBe(0);
  });

  it('never lets concurrent calls together cross the cap', async () => {
    const { model, env } = await setup(() => ({ text: 'a', usage: { input: 10, output: 1000 }, delayMs: 30 }));
    const budget = new UsdBudget(0.01);
    const client = new ModelClient({ direct, model, env, budget });
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => client.call({ role: 'task', prompt: 'x', maxOutputTokens: 1000 })));
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    expect(ok).toBeGreaterThan(0);
    expect(ok).toBeLessThan(20);
    expect(budget.spent).toBeLessThanOrEqual(0.01);
  });

  it('returns tool calls without executing them (the caller runs its tools)', async () => {
    const { model, env } = await setup([{ toolCalls: [{ name: 'read_file', arguments: { path: 'train.py' } }] }]);
    const client = new ModelClient({ direct, model, env });
    const reply = await client.call({
      role: 'agent',
      messages: [{ role: 'user', content: 'look' }],
      tools: { read_file: { description: 'read a file', inputSchema: z.object({ path: z.string() }) } },
    });
    expect(reply.finishReason).toBe('tool-calls');
    expect(reply.toolCalls).toEqual([{ toolCallId: 'call_0_0', toolName: 'read_file', input: { path: 'train.py' } }]);
    expect(server!.requests[0]!.tools).toEqual(['read_file']);
  });

  it('speaks the Anthropic wire format too', async () => {
    const { model, env } = await setup([{ text: 'bonjour', finishReason: 'length', usage: { input: 100, output: 50 } }]);
    const client = new ModelClient({ direct, model: { ...model, name: 'anthropic:claude-sonnet-4-5', provider: 'anthropic', modelId: 'claude-sonnet-4-5' }, env: { ...env, ANTHROPIC_API_KEY: 'k' } });
    const reply = await client.call({ role: 'reflection', prompt: 'x' });
    expect(reply).toMatchObject({ text: 'bonjour', finishReason: 'length', usd: (100 * 3 + 50 * 15) / 1e6 });
    expect(server!.requests[0]!.api).toBe('anthropic-messages');
  });

  it('fails before any call on a missing key or a capped study with an unknown price', async () => {
    const { model } = await setup([]);
    expect(() => new ModelClient({ direct, model, env: {} })).toThrow(/set OPENAI_API_KEY/);
    const unknown: ModelSpec = { name: 'openai-compatible:mystery', provider: 'openai-compatible', modelId: 'mystery', baseUrl: server!.url };
    expect(() => new ModelClient({ direct, model: unknown, env: {}, budget: new UsdBudget(5) })).toThrow(LlmConfigError);
    expect(() => new ModelClient({ direct, model: unknown, env: {}, budget: new UsdBudget(null) })).not.toThrow();
  });

  it('counts a call that never finished at its reservation when reading spend back', async () => {
    const ledger = Ledger.open(':memory:');
    ledger.record('study.created', { studyId: 1, name: 's', kind: 'evolve', config: {}, configHash: 'h', branch: null, baseCommit: null });
    const { recordCallStarted } = await import('../../src/llm/call-ledger.ts');
    recordCallStarted(ledger, { studyId: 1, trialId: null, candidateId: null, role: 'task', model: 'm', reservedUsd: 0.25, request: null });
    expect(ledger.llm.spentUsd(1)).toBe(0.25);
    // the per-role figures add up to the total
    expect(ledger.llm.spendByRole(1)).toEqual([{ role: 'task', calls: 1, errors: 0, inputTokens: 0, outputTokens: 0, usd: 0.25 }]);
  });
});

describe('ModelClient direct', () => {
  it('sends the request generateText sends, and reads the reply the same way', async () => {
    const { model, env } = await setup([
      { text: 'same', usage: { input: 12, output: 3 } },
      { text: 'same', usage: { input: 12, output: 3 } },
    ]);
    const request = { role: 'task', system: 'Classify the ticket.', prompt: 'ticket 7: refund please', maxOutputTokens: 16, temperature: 0.3, seed: 7 };
    const viaGenerateText = await new ModelClient({ model, env }).call(request);
    const viaDoGenerate = await new ModelClient({ model, env, direct: true }).call(request);
    const [sent, sentDirect] = server!.requests;
    expect(sentDirect!.body).toEqual(sent!.body);
    const comparable = ({ latencyMs: _latency, callId: _callId, ...rest }: typeof viaGenerateText) => rest;
    expect(comparable(viaDoGenerate)).toEqual(comparable(viaGenerateText));
  });
});
