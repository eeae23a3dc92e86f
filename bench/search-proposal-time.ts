/**
 * How long one search proposal takes as a study grows: SearchProposer.propose
 * end to end (history to observations, the sampler, the params file), with
 * `sampler: auto` and the other samplers, at 10 to 1,000 finished trials.
 *
 *   npx node bench/search-proposal-time.ts            # 20 proposals per cell
 *   npx node bench/search-proposal-time.ts --repeats 5
 *
 * Histories are synthetic (uniform points, a quadratic loss), so the model's
 * work is typical; timings are wall clock on this machine and vary with its load.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../src/core/config/parse-config.ts';
import type { ProposalContext, TrialSummary } from '../src/core/proposer.ts';
import { Random } from '../src/core/random.ts';
import { paramsKey, type ParamValues } from '../src/core/search-space.ts';
import { drawRandomParams } from '../src/proposers/search/random-draw.ts';
import type { SamplerName } from '../src/proposers/search/sampler.ts';
import { SearchProposer } from '../src/proposers/search/search-proposer.ts';
import { quantile } from './search-report.ts';

const SPACES = {
  'continuous 10-D': Array.from({ length: 10 }, (_, i) => `    x${i}: {type: float, low: -5, high: 5}`).join('\n'),
  'conditional (optimizer)': [
    '    optimizer: {type: choice, values: [sgd, adam, rmsprop]}',
    '    lr: {type: float, low: 0.00001, high: 1, log: true}',
    '    momentum: {type: float, low: 0.5, high: 0.99, when: {optimizer: sgd}}',
    '    beta2: {type: float, low: 0.9, high: 0.9999, when: {optimizer: adam}}',
    '    layers: {type: int, low: 1, high: 8}',
  ].join('\n'),
};

function config(params: string) {
  return parseConfig(`name: t\nresearch:\n  editable: [train.py]\n  run: python train.py\n  budget: 5m\n  metric: {name: loss, goal: minimize}\n  params:\n${params}\n`).research!;
}

function history(space: ReturnType<typeof config>['params'], n: number, rng: Random): TrialSummary[] {
  return Array.from({ length: n }, (_, i) => {
    const params: ParamValues = drawRandomParams(space, rng);
    const loss = Object.values(params).reduce<number>((sum, value) => sum + (typeof value === 'number' ? Math.log1p(Math.abs(value)) ** 2 : 0.1), 0);
    return {
      id: i + 1,
      seq: i + 1,
      status: 'discard',
      description: '',
      metric: loss,
      delta: null,
      params,
      paramsKey: paramsKey(params),
      diff: null,
      logTail: null,
      parentCommit: 'base',
      candidateCommit: `c${i}`,
      reason: null,
      cause: null,
      relatedTrialId: null,
    };
  });
}

async function main(): Promise<void> {
  const repeatsFlag = process.argv.indexOf('--repeats');
  const repeats = repeatsFlag >= 0 ? Number(process.argv[repeatsFlag + 1]) : 20;
  const dir = mkdtempSync(join(tmpdir(), 'strata-proposal-time-'));
  const rows: string[][] = [];
  try {
    for (const [label, params] of Object.entries(SPACES)) {
      const research = config(params);
      for (const sampler of ['auto', 'tpe', 'gp', 'random'] as SamplerName[]) {
        for (const n of [10, 100, 200, 201, 1000]) {
          if (sampler === 'gp' && n > 200) continue; // auto hands over to TPE past 200; gp alone is cubic in n
          const trials = history(research.params, n, Random.fromSeed(`time:${label}:${n}`));
          const proposer = new SearchProposer({ sampler });
          const times: number[] = [];
          let by = '';
          for (let k = 0; k < repeats; k++) {
            const context: ProposalContext = { seq: n + 1, trialId: n + 1, config: research, goal: 'minimize', history: trials, best: undefined, inFlight: [], projectDir: dir, rng: Random.fromSeed(k), signal: new AbortController().signal };
            const started = performance.now();
            const proposal = await proposer.propose(context);
            times.push(performance.now() - started);
            by = String(proposal.meta?.sampler);
          }
          rows.push([label, sampler, String(n), by, quantile(times, 0.5).toFixed(1), quantile(times, 0.9).toFixed(1)]);
          console.error(rows.at(-1)!.join('  '));
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log('| space | sampler | finished trials | proposed by | median ms | p90 ms |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
}

await main();
