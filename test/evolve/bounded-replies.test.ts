/**
 * A reflection model that replies with 10 MB (long reasoning around a short
 * fenced text) must not grow the ledger by 10 MB per call: every stored
 * reply keeps its start and, past TEXT_LIMITS.modelText, its length and sha256.
 * Before the ledger bounded texts, a reflector like this one grew a ledger to
 * 342 MB in 18 iterations.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { optimize } from '../../src/evolve/optimize.ts';
import { TEXT_LIMITS } from '../../src/ledger/bounded-text.ts';
import { checkLedger } from '../../src/ledger/ledger-check.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { sqlRows } from '../helpers/ledger-sql.ts';
import { LoopbackModelServer } from '../helpers/loopback-model.ts';
import { toyEvaluator, toyExamples, toyReflection } from './toy-task.ts';

const REASONING = 10 * 1024 * 1024;
const replies: string[] = [];
let server: LoopbackModelServer;
beforeAll(async () => {
  const reflect = toyReflection();
  server = await LoopbackModelServer.start((request) => {
    const reply = reflect(request);
    const text = `Reasoning: ${'the labels were confused; '.repeat(REASONING / 26)}\n${reply.text ?? ''}`;
    replies.push(text);
    return { ...reply, text };
  });
});
afterAll(async () => server.close());

const sizeOf = (path: string) => [path, `${path}-wal`].reduce((sum, file) => sum + (statSync(file, { throwIfNoEntry: false })?.size ?? 0), 0);

describe('texts in the ledger are bounded', () => {
  it('stores a 10 MB reflection reply as its first 20k characters with its length and sha256; the run still learns from the whole reply', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'strata-bounded-')), 'ledger.db');
    const result = await optimize({
      seed: { instructions: 'Answer with one word.' },
      trainset: toyExamples('t', 6),
      valset: toyExamples('v', 6),
      evaluate: toyEvaluator().evaluate,
      reflectionModel: { name: 'openai-compatible:loop', provider: 'openai-compatible', modelId: 'loop', baseUrl: server.url, prices: { inputPerMtok: 1, outputPerMtok: 2 } },
      budget: { metricCalls: 60 },
      ledger: path,
      studyName: 'verbose-reflector',
    });
    expect(result.best.valMean).toBeGreaterThan(result.pool[0]!.valMean);

    const stored = sqlRows(path, "SELECT response_text FROM llm_calls WHERE role = 'reflection' ORDER BY id").map((row) => String(row.response_text));
    expect(stored.length).toBeGreaterThanOrEqual(3);
    const byHash = new Map(replies.map((reply) => [createHash('sha256').update(reply).digest('hex'), reply]));
    for (const text of stored) {
      expect(text.length).toBeLessThanOrEqual(TEXT_LIMITS.modelText);
      const marker = /…\[truncated: (\d+) chars, sha256 ([0-9a-f]{64})\]$/.exec(text);
      expect(marker, text.slice(-200)).not.toBeNull();
      const reply = byHash.get(marker![2]!);
      expect(reply, 'the hash is the whole reply\'s').toBeDefined();
      expect(Number(marker![1])).toBe(reply!.length);
      expect(reply!.startsWith(text.slice(0, marker!.index))).toBe(true);
    }
    const ledger = Ledger.open(path);
    const recorded = ledger.evolve.reflections(ledger.studyByName('verbose-reflector')!.id);
    expect(recorded.length).toBe(stored.length);
    for (const reflection of recorded) expect(reflection.reply.length).toBeLessThanOrEqual(TEXT_LIMITS.modelText);
    expect(checkLedger(ledger).ok).toBe(true);
    ledger.close();

    // Each 10 MB reply was stored twice before (the call's row and its event) and once more as the reflection event.
    const bytes = sizeOf(path);
    console.log(`ledger after ${stored.length} reflection replies of ${(replies[0]!.length / 1e6).toFixed(1)} MB: ${(bytes / 1e6).toFixed(2)} MB`);
    expect(bytes).toBeLessThan(stored.length * 1_000_000);
  }, 120_000);
});
