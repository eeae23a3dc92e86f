/**
 * TPE vs random search on standard test functions.
 *
 *   npx node bench/search.ts                  # report: seeds 0..29, 40 trials
 *   npx node bench/search.ts --seeds 1000:30  # tuning seeds (never tune on 0..29)
 *   npx node bench/search.ts --trials 60
 *
 * For each function and seed, both samplers run `trials` sequential trials;
 * they share the seed (so their first 10 random proposals coincide: TPE's
 * startup draws are the random sampler's) and the noise stream. The figure is
 * the best TRUE (noise-free) value among the trials; the table shows its
 * median and interquartile range over seeds, and the ratio of median regrets
 * (best - optimum), TPE / random: below 1 means TPE found better points.
 */
import { Random } from '../src/core/random.ts';
import { paramsKey, type Observation, type ParamValues, type SearchSpace } from '../src/core/search-space.ts';
import { RandomSampler } from '../src/proposers/search/random-sampler.ts';
import type { Sampler } from '../src/proposers/search/sampler.ts';
import { TpeSampler } from '../src/proposers/search/tpe-sampler.ts';

interface TestFunction {
  name: string;
  space: SearchSpace;
  optimum: number;
  /** Standard deviation of Gaussian noise added to the observed loss (not to the reported value). */
  noise: number;
  value(params: ParamValues): number;
}

const num = (params: ParamValues, name: string): number => params[name] as number;

const branin: TestFunction = {
  name: 'Branin (2-D)',
  space: { x1: { type: 'float', low: -5, high: 10 }, x2: { type: 'float', low: 0, high: 15 } },
  optimum: 0.397887,
  noise: 0,
  value(params) {
    const x1 = num(params, 'x1');
    const x2 = num(params, 'x2');
    const b = 5.1 / (4 * Math.PI ** 2);
    const c = 5 / Math.PI;
    const t = 1 / (8 * Math.PI);
    return (x2 - b * x1 * x1 + c * x1 - 6) ** 2 + 10 * (1 - t) * Math.cos(x1) + 10;
  },
};

const hartmannA = [
  [10, 3, 17, 3.5, 1.7, 8],
  [0.05, 10, 17, 0.1, 8, 14],
  [3, 3.5, 1.7, 10, 17, 8],
  [17, 8, 0.05, 10, 0.1, 14],
];
const hartmannP = [
  [1312, 1696, 5569, 124, 8283, 5886],
  [2329, 4135, 8307, 3736, 1004, 9991],
  [2348, 1451, 3522, 2883, 3047, 6650],
  [4047, 8828, 8732, 5743, 1091, 381],
].map((row) => row.map((v) => v * 1e-4));
const hartmannAlpha = [1, 1.2, 3, 3.2];
const unitCube = (dims: number, prefix: string): SearchSpace =>
  Object.fromEntries(Array.from({ length: dims }, (_, i) => [`${prefix}${i}`, { type: 'float', low: 0, high: 1 } as const]));

const hartmann6: TestFunction = {
  name: 'Hartmann-6 (6-D)',
  space: unitCube(6, 'x'),
  optimum: -3.32237,
  noise: 0,
  value(params) {
    let sum = 0;
    hartmannAlpha.forEach((alpha, i) => {
      let inner = 0;
      for (let j = 0; j < 6; j++) inner += hartmannA[i]![j]! * (num(params, `x${j}`) - hartmannP[i]![j]!) ** 2;
      sum += alpha * Math.exp(-inner);
    });
    return -sum;
  },
};

const quadraticCentre = [1.5, -2, 0.5, 3];
const noisyQuadratic: TestFunction = {
  name: 'Noisy quadratic (4-D, sd 1)',
  space: Object.fromEntries(quadraticCentre.map((_, i) => [`x${i}`, { type: 'float', low: -5, high: 5 } as const])),
  optimum: 0,
  noise: 1,
  value(params) {
    return quadraticCentre.reduce((sum, centre, i) => sum + (num(params, `x${i}`) - centre) ** 2, 0);
  },
};

/** Best true value after `trials` trials of one sampler on one function and seed. */
function run(fn: TestFunction, sampler: Sampler, seed: number, trials: number): { best: number; seconds: number } {
  const rng = Random.fromSeed(`bench-search:${seed}`);
  const noise = Random.fromSeed(`bench-search-noise:${fn.name}:${seed}`);
  const history: Observation[] = [];
  const seen = new Set<string>();
  let best = Number.POSITIVE_INFINITY;
  const started = performance.now();
  for (let trial = 0; trial < trials; trial++) {
    const { params } = sampler.sample({ space: fn.space, history, rng, avoid: seen });
    const truth = fn.value(params);
    const observed = fn.noise > 0 ? truth + noise.normal(0, fn.noise) : truth;
    history.push({ params, loss: observed });
    seen.add(paramsKey(params));
    best = Math.min(best, truth);
  }
  return { best, seconds: (performance.now() - started) / 1000 };
}

/** Linear-interpolated quantile (R type 7). */
function quantile(values: readonly number[], q: number): number {
  const sorted = values.slice().sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below]! + (sorted[above]! - sorted[below]!) * (position - below);
}

function parseArgs(argv: readonly string[]): { seeds: number[]; trials: number } {
  let seedStart = 0;
  let seedCount = 30;
  let trials = 40;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag === '--seeds' && value !== undefined && /^\d+:\d+$/.test(value)) {
      [seedStart, seedCount] = value.split(':').map(Number) as [number, number];
      i++;
    } else if (flag === '--trials' && value !== undefined && /^\d+$/.test(value)) {
      trials = Number(value);
      i++;
    } else {
      throw new Error(`unknown or malformed argument ${JSON.stringify(flag)}; use --seeds START:COUNT and --trials N`);
    }
  }
  return { seeds: Array.from({ length: seedCount }, (_, i) => seedStart + i), trials };
}

function format(value: number): string {
  return Math.abs(value) >= 100 ? value.toFixed(1) : value.toPrecision(4);
}

function main(): void {
  const { seeds, trials } = parseArgs(process.argv.slice(2));
  const header = ['function', 'optimum', 'random median [IQR]', 'TPE median [IQR]', 'regret ratio TPE/random', 'TPE better', 'ms per proposal (random / TPE)'];
  const rows: string[][] = [];
  for (const fn of [branin, hartmann6, noisyQuadratic]) {
    const results = { random: [] as number[], tpe: [] as number[] };
    const seconds = { random: 0, tpe: 0 };
    let tpeWins = 0;
    for (const seed of seeds) {
      const random = run(fn, new RandomSampler(), seed, trials);
      const tpe = run(fn, new TpeSampler({ multivariate: false }), seed, trials);
      results.random.push(random.best);
      results.tpe.push(tpe.best);
      seconds.random += random.seconds;
      seconds.tpe += tpe.seconds;
      if (tpe.best < random.best) tpeWins++;
    }
    const summary = (values: number[]): string => `${format(quantile(values, 0.5))} [${format(quantile(values, 0.25))}, ${format(quantile(values, 0.75))}]`;
    const ratio = (quantile(results.tpe, 0.5) - fn.optimum) / (quantile(results.random, 0.5) - fn.optimum);
    const perProposal = (total: number): string => ((total * 1000) / (seeds.length * trials)).toFixed(3);
    rows.push([fn.name, String(fn.optimum), summary(results.random), summary(results.tpe), ratio.toFixed(3), `${tpeWins}/${seeds.length}`, `${perProposal(seconds.random)} / ${perProposal(seconds.tpe)}`]);
  }

  console.log(`best true value after ${trials} trials, seeds ${seeds[0]}..${seeds[seeds.length - 1]} (${seeds.length}), lower is better\n`);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: readonly string[]): string => cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd();
  console.log(line(header));
  console.log(line(widths.map((width) => '-'.repeat(width))));
  for (const row of rows) console.log(line(row));
  console.log('');
  console.log(`| ${header.join(' | ')} |`);
  console.log(`|${header.map(() => ' --- ').join('|')}|`);
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
}

main();
