/**
 * Did the outer loop pay for itself? The tiny-lm pipeline of
 * examples/pipeline/offline.yaml (evolve the research program on short
 * research studies, then research with the best one) against plain research
 * with the default program for the same number of counted trials
 * (`strata pipeline --compare`), side by side.
 *
 *   npx node bench/pipeline-compare.ts                         # both scenarios, 2 repeats each (~12 min on one core)
 *   npx node bench/pipeline-compare.ts --scenario reversed --repeats 1 --exploit 24
 *
 * The models are the scripted stand-ins of examples/pipeline/offline-models.ts
 * on a loopback server, not language models: the agent changes one setting of
 * train.ts per trial in the order its program gives (or its own order), and
 * the reflector reorders the program's priorities by what the evaluations'
 * trial tables say helped. Scenarios differ only in the agent's own order:
 * - natural: the DEFAULTS order, which puts the strongest idea (lr) first;
 * - reversed: batch, init_scale, embed, context, hidden, lr: weak ideas first.
 * Repeats differ in the trials' seed (research.search.seed = repeat number).
 * --exploit sets the research stage's max_trials (8 in offline.yaml); the
 * explore stage always spends what its 8 metric calls buy (16 trials here).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { prepareOfflineRepo } from '../examples/pipeline/offline.ts';
import { SETTINGS, tinyLmModels, type Setting } from '../examples/pipeline/offline-models.ts';
import { pipelineCommand } from '../src/cli/commands/pipeline.ts';
import type { PipelineComparison } from '../src/pipeline/compare-plain.ts';
import type { PipelineSummary } from '../src/pipeline/pipeline-summary.ts';
import { LoopbackModelServer } from '../test/helpers/loopback-model.ts';

const SCENARIOS: Record<string, readonly Setting[]> = { natural: SETTINGS, reversed: [...SETTINGS].reverse() };

const { values } = parseArgs({
  options: { scenario: { type: 'string', default: 'natural,reversed' }, repeats: { type: 'string', default: '2' }, exploit: { type: 'string', default: '8' }, keep: { type: 'boolean', default: false } },
});

interface Row {
  scenario: string;
  repeat: number;
  summary: PipelineSummary;
  comparison: PipelineComparison;
  wallS: number;
}

const rows: Row[] = [];
process.stdout.write(`node ${process.version} · ${cpus().length} cores · load ${loadavg().map((value) => value.toFixed(1)).join(' ')}\n`);
for (const scenario of values.scenario.split(',')) {
  const order = SCENARIOS[scenario];
  if (!order) throw new Error(`unknown scenario ${scenario}; use ${Object.keys(SCENARIOS).join(', ')}`);
  for (let repeat = 1; repeat <= Number(values.repeats); repeat++) {
    const server = await LoopbackModelServer.start(tinyLmModels({ order }));
    const dir = mkdtempSync(join(tmpdir(), `pipeline-bench-${scenario}-`));
    rmSync(dir, { recursive: true });
    try {
      const repo = prepareOfflineRepo(dir, server.url);
      const config = join(repo, 'offline.yaml');
      const text = readFileSync(config, 'utf8')
        .replace('  acceptance: {rule: strict}', `  acceptance: {rule: strict}\n  search: {seed: ${repeat}}`)
        .replace(/ {6}max_trials: 8\n$/, `      max_trials: ${Number(values.exploit)}\n`);
      writeFileSync(config, text);
      let json = '';
      const out = new Writable({ write: (chunk: Buffer, _encoding, done) => ((json += chunk.toString()), done()) });
      const started = performance.now();
      await pipelineCommand({ config: 'offline.yaml', cwd: repo, compare: true, json: true, out });
      const result = JSON.parse(json) as PipelineSummary & { comparison: PipelineComparison };
      const row = { scenario, repeat, summary: result, comparison: result.comparison, wallS: (performance.now() - started) / 1000 };
      rows.push(row);
      process.stdout.write(`${line(row)}\n`);
    } finally {
      await server.close();
      if (!values.keep) rmSync(dir, { recursive: true, force: true });
    }
  }
}

process.stdout.write(`\n${table(rows)}\n`);

function line(row: Row): string {
  const { pipeline, plain, winner } = row.comparison;
  return `${row.scenario} #${row.repeat}: pipeline ${pipeline.best?.toFixed(4)} (${percent(pipeline.relative)}) vs plain ${plain.best?.toFixed(4)} (${percent(plain.relative)}) → ${winner} · ${pipeline.spend.trials} trials each · ${row.wallS.toFixed(0)} s`;
}

function table(all: Row[]): string {
  const header = '| scenario | seed | explore: best score (seed program) | pipeline best val_bpb (vs its baseline) | plain best val_bpb (vs its baseline) | trials each (explore + exploit) | trial time pipeline / plain | better |';
  const rule = '| --- | --- | --- | --- | --- | --- | --- | --- |';
  const body = all.map((row) => {
    const [explore, exploit] = row.summary.stages;
    const { pipeline, plain, winner } = row.comparison;
    return `| ${row.scenario} | ${row.repeat} | ${explore?.best?.score?.toFixed(3)} (${explore?.best?.baseline?.toFixed(3)}) | ${pipeline.best?.toFixed(3)} (${percent(pipeline.relative)}) | ${plain.best?.toFixed(3)} (${percent(plain.relative)}) | ${pipeline.spend.trials} (${explore?.spend.trials} + ${exploit?.spend.trials}) | ${pipeline.spend.trialSeconds.toFixed(0)} s / ${plain.spend.trialSeconds.toFixed(0)} s | ${winner} |`;
  });
  return [header, rule, ...body].join('\n');
}

function percent(value: number | null): string {
  return value === null ? '-' : `${(value * 100).toFixed(1)}%`;
}
