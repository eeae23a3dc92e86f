/**
 * CPU per model call, layer by layer, in one process against the same
 * loopback server: bare fetch, the AI SDK's generateText, the model's
 * doGenerate, and ModelClient with and without the ledger, batched call
 * ends and the direct path. What each layer adds is the difference.
 *
 *   npx node bench/model-call-cpu.ts
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateText } from 'ai';
import { resolveLanguageModel } from '../src/llm/resolve-model.ts';
import { ModelClient } from '../src/llm/model-client.ts';
import { Ledger } from '../src/ledger/ledger.ts';
const child = spawn(process.execPath, [join(import.meta.dirname, 'loopback-process.ts'), '--latency', '50'], { stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise<string>((resolve) => { let out = ''; child.stdout.on('data', (c: Buffer) => { out += c; const m = /^url (\S+)$/m.exec(out); if (m) resolve(m[1]!); }); });
const spec = { name: 'openai-compatible:bench', provider: 'openai-compatible' as const, modelId: 'bench', baseUrl: url, prices: { inputPerMtok: 1, outputPerMtok: 1 } };
const n = 1600, c = 16;
async function measure(label: string, one: (i: number) => Promise<unknown>) {
  let next = 0; const cpu = process.cpuUsage(); const t = performance.now();
  await Promise.all(Array.from({ length: c }, async () => { while (next < n) await one(next++); }));
  const u = process.cpuUsage(cpu);
  console.log(`${label.padEnd(44)} ${((u.user + u.system) / 1000 / n).toFixed(3)} ms cpu/call  ${(n / ((performance.now() - t) / 1000)).toFixed(0)}/s`);
}
const body = JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: 'ticket: refund please' }] });
const model = resolveLanguageModel(spec);
const dir = mkdtempSync(join(tmpdir(), 'layers-'));
const ledger = Ledger.open(join(dir, 'l.db'));
const studyId = ledger.transaction(() => {
  const id = ledger.nextId('studies');
  ledger.record('study.created', { studyId: id, name: 'b', kind: 'evolve', config: {}, configHash: 'x', baseCommit: null, branch: null }, { studyId: id });
  return id;
});
const plain = new ModelClient({ model: spec });
const direct = new ModelClient({ model: spec, ledger, studyId, batchEnds: true, direct: true });
const recorded = new ModelClient({ model: spec, ledger, studyId });
const batched = new ModelClient({ model: spec, ledger, studyId, batchEnds: true });
const ask = (i: number) => ({ role: 'task', system: 'Classify the ticket.', prompt: `ticket ${i}: refund please`, maxOutputTokens: 16 });
const v4 = model as Extract<typeof model, { specificationVersion: 'v4' }>;
console.log(`CPU per model call at concurrency ${c}, ${n} calls each, against the loopback model in its own process (50 ms latency); round 1 warms the JIT`);
for (let round = 1; round <= 3; round++) {
  console.log(`round ${round}`);
  await measure('bare fetch', async () => {
    const response = await fetch(`${url}/chat/completions`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    await response.json();
  });
  await measure('AI SDK generateText', async (i) => generateText({ model, system: 'Classify the ticket.', prompt: `ticket ${i}: refund please`, maxOutputTokens: 16, maxRetries: 0 }));
  await measure('the model\'s doGenerate', async (i) =>
    v4.doGenerate({ prompt: [{ role: 'system', content: 'Classify the ticket.' }, { role: 'user', content: [{ type: 'text', text: `ticket ${i}: refund please` }] }], maxOutputTokens: 16 }),
  );
  await measure('ModelClient.call, no ledger', async (i) => plain.call(ask(i)));
  await measure('ModelClient.call, ledger', async (i) => recorded.call(ask(i)));
  await measure('ModelClient.call, ledger, batchEnds', async (i) => batched.call(ask(i)));
  await measure('ModelClient.call, ledger, batchEnds, direct', async (i) => direct.call(ask(i)));
}
child.kill();
rmSync(dir, { recursive: true, force: true });
