/**
 * Evolve engine overhead and evaluation throughput against a loopback model.
 *
 *   npx node bench/evolve.ts                       # latency 50 ms, concurrency 8 and 32, 400 examples
 *   npx node bench/evolve.ts --latency 100 --concurrency 8,16 --examples 800
 *   npx node bench/evolve.ts --skip-overhead --concurrency 8,16 --examples 800 --rounds 3 --baseline <checkout>   # old and new side by side
 *   npx node --cpu-prof bench/evolve.ts --skip-overhead --skip-bare --concurrency 16 --examples 1600   # profile the engine
 *
 * Throughput: the built-in evaluator (prompt template → task model over HTTP
 * through the AI SDK → exact metric), every call and evaluation written to a
 * SQLite ledger on disk, scoring the seed on N validation examples. The
 * loopback server answers each request after a fixed latency, so the ideal is
 * concurrency ÷ latency; the figure is the measured rate and its ratio to ideal.
 *
 * Overhead: a whole optimize() run with an in-process evaluator that costs
 * nothing and a reflection model with no latency, so the time is the
 * engine's own (selection, sampling, cache, ledger events, reflection HTTP
 * round trip) per iteration and per evaluation.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createTemplateEvaluator } from '../src/evolve/evaluators/template-evaluator.ts';
import { optimize } from '../src/evolve/optimize.ts';
import type { EvolveProgress } from '../src/evolve/types.ts';
import { LoopbackModelServer } from '../test/helpers/loopback-model.ts';
import { toyEvaluator, toyExamples, toyReflection } from '../test/evolve/toy-task.ts';

const { values } = parseArgs({
  options: { 'skip-overhead': { type: 'boolean', default: false }, 'skip-bare': { type: 'boolean', default: false }, latency: { type: 'string', default: '50' }, baseline: { type: 'string' }, rounds: { type: 'string', default: '1' }, concurrency: { type: 'string', default: '8,32' }, examples: { type: 'string', default: '400' } },
});
const latencyMs = Number(values.latency);
const levels = String(values.concurrency).split(',').map(Number);
const examples = Number(values.examples);
const dir = mkdtempSync(join(tmpdir(), 'strata-bench-evolve-'));

/** Runs so far: each gets a fresh ledger (one named after its concurrency alone would resume a cached run). */
let runs = 0;

/** The engine under test: this checkout's, or (--baseline <checkout>) another's src/, loaded beside it. */
interface Engine {
  createTemplateEvaluator: typeof createTemplateEvaluator;
  optimize: typeof optimize;
}
const current: Engine = { createTemplateEvaluator, optimize };
const baselineEngine: Engine | undefined = values.baseline
  ? {
      createTemplateEvaluator: (await import(pathToFileURL(join(values.baseline, 'src/evolve/evaluators/template-evaluator.ts')).href)).createTemplateEvaluator,
      optimize: (await import(pathToFileURL(join(values.baseline, 'src/evolve/optimize.ts')).href)).optimize,
    }
  : undefined;

async function throughput(concurrency: number, server: { url: string }, engine: Engine = current): Promise<{ rate: number; seconds: number; cpuMs: number }> {
  const { createTemplateEvaluator, optimize } = engine;
  const spec = { name: 'openai-compatible:bench', provider: 'openai-compatible' as const, modelId: 'bench', baseUrl: server.url, prices: { inputPerMtok: 1, outputPerMtok: 1 } };
  const { evaluate, version } = createTemplateEvaluator({ taskModel: spec, metric: { kind: 'exact', ignoreCase: true }, template: { user: '{input}' }, task: { maxOutputTokens: 16 } });
  const valset = Array.from({ length: examples }, (_, i) => ({ id: `v${i}`, input: `ticket ${i}: refund please`, answer: 'billing' }));
  let started = 0;
  let seconds = 0;
  let cpu = process.cpuUsage();
  let cpuMs = 0;
  const onProgress = (progress: EvolveProgress) => {
    if (progress.kind === 'started') {
      started = performance.now();
      cpu = process.cpuUsage();
    }
    if (progress.kind === 'seed_evaluated') {
      seconds = (performance.now() - started) / 1000;
      const used = process.cpuUsage(cpu);
      cpuMs = (used.user + used.system) / 1000;
    }
  };
  await optimize({
    seed: { system_prompt: 'Classify the ticket.' },
    trainset: valset.slice(0, 3),
    valset,
    evaluate,
    evaluatorVersion: version,
    reflectionModel: spec,
    budget: { metricCalls: examples },
    concurrency,
    ledger: join(dir, `throughput-${concurrency}-${(runs += 1)}.db`),
    onProgress,
  });
  return { rate: examples / seconds, seconds, cpuMs };
}

/** The same number of bare HTTP requests at the same concurrency: what this machine can do right now without the engine. */
async function baseline(concurrency: number, server: { url: string }): Promise<{ rate: number; cpuMs: number }> {
  const body = JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: 'ticket: refund please' }] });
  let next = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < examples) {
        const response = await fetch(`${server.url}/chat/completions`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
        await response.json();
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  return { rate: examples / ((performance.now() - started) / 1000), cpuMs: (used.user + used.system) / 1000 };
}

/** The loopback server in a child process, so this process's CPU time is the engine's and the client's only. */
async function startServerProcess(latency: number): Promise<{ url: string; stop(): void }> {
  const child = spawn(process.execPath, [join(import.meta.dirname, 'loopback-process.ts'), '--latency', String(latency)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /^url (\S+)$/m.exec(out);
      if (match) resolve(match[1]!);
    });
    child.on('exit', (code) => reject(new Error(`the loopback process exited with ${code}`)));
  });
  return { url, stop: () => child.kill('SIGTERM') };
}

async function overhead(): Promise<{ iterations: number; evaluations: number; seconds: number; reflections: number }> {
  const server = await LoopbackModelServer.start(toyReflection(2));
  const result = await optimize({
    seed: { intro: 'Answer with one word.', rules: 'Rules:' },
    trainset: toyExamples('t', 60, 10),
    valset: toyExamples('v', 30, 10),
    evaluate: toyEvaluator().evaluate,
    reflectionModel: { name: 'openai-compatible:loop', provider: 'openai-compatible', modelId: 'loop', baseUrl: server.url, prices: { inputPerMtok: 1, outputPerMtok: 1 } },
    budget: { metricCalls: 3000 },
    merge: true,
    ledger: join(dir, 'overhead.db'),
  });
  await server.close();
  return { iterations: result.budget.iterations, evaluations: result.budget.metricCalls, seconds: result.budget.elapsedMs / 1000, reflections: server.requests.length };
}

console.log(`evolve bench · node ${process.version} · latency ${latencyMs} ms · ${examples} examples`);
console.log('');
console.log(`host: ${cpus().length} cores, load average ${loadavg()[0]!.toFixed(1)} at start`);
console.log('');
// CPU ms per evaluation counts this process only: engine, AI SDK client and ledger (the model runs in a child process).
// Side by side: bare fetch at the same concurrency against the same server, just before the engine's run.
// With --baseline, each round runs bare fetch, then the baseline's engine and this one's (alternating which goes first).
if (baselineEngine) console.log(`baseline engine: ${values.baseline}\n`);
console.log(`${baselineEngine ? 'round  engine    ' : ''}concurrency  ideal/s  bare fetch/s  engine/s  engine÷ideal  engine÷bare  cpu ms/eval  bare cpu ms/req`);
const server = await startServerProcess(latencyMs);
for (let round = 1; round <= Number(values.rounds); round++) {
  for (const concurrency of levels) {
    // --skip-bare: the engine alone (for a CPU profile of it).
    const bare = values['skip-bare'] ? { rate: Number.NaN, cpuMs: Number.NaN } : await baseline(concurrency, server);
    const engines: [string, Engine][] = baselineEngine ? [['baseline', baselineEngine], ['current', current]] : [['', current]];
    if (round % 2 === 0) engines.reverse();
    for (const [label, engine] of engines) {
      const r = await throughput(concurrency, server, engine);
      const ideal = concurrency / (latencyMs / 1000);
      console.log(
        `${baselineEngine ? `${String(round).padStart(5)}  ${label.padEnd(8)}  ` : ''}${String(concurrency).padStart(11)}  ${ideal.toFixed(0).padStart(7)}  ${bare.rate.toFixed(1).padStart(12)}  ${r.rate.toFixed(1).padStart(8)}  ${(r.rate / ideal).toFixed(3).padStart(12)}  ${(r.rate / bare.rate).toFixed(3).padStart(11)}  ${(r.cpuMs / examples).toFixed(2).padStart(11)}  ${(bare.cpuMs / examples).toFixed(2).padStart(15)}`,
      );
    }
  }
}
server.stop();
if (values['skip-overhead']) process.exit(0);
const o = await overhead();
console.log('');
console.log(`overhead: ${o.iterations} iterations, ${o.evaluations} evaluations, ${o.reflections} reflection calls in ${o.seconds.toFixed(2)}s`);
console.log(`  ${((o.seconds * 1000) / o.iterations).toFixed(2)} ms per iteration · ${((o.seconds * 1e6) / o.evaluations).toFixed(0)} µs per evaluation (all inclusive)`);
rmSync(dir, { recursive: true, force: true });
