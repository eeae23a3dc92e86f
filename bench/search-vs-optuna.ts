/**
 * Strata's search samplers against real Optuna, side by side, on the same
 * functions (bench/search-problems.ts) with the same budgets and seeds.
 *
 *   npx node bench/search-vs-optuna.ts                          # the full suite, seeds 0..19, 100 trials
 *   npx node bench/search-vs-optuna.ts --seeds 1000:20          # tuning seeds: tune only here, report 0..19
 *   npx node bench/search-vs-optuna.ts --problems 'f0[1-8]-.*-2d' --seeds 0:3 --trials 30   # a quick look
 *   npx node bench/search-vs-optuna.ts --strata auto --slots 1,4 --optuna none   # the parallel-slot penalty
 *
 * Options:
 *   --seeds START:COUNT   seeds (each seed is also the problem instance)        default 0:20
 *   --trials N            trials per run; budgets read off each run's trace     default 100
 *   --budgets LIST        budgets reported: numbers and 10xD                    default 30,100,10xD
 *   --problems LIST       comma-separated regular expressions on problem ids    default all
 *   --strata LIST         Strata samplers: auto, gp, tpe, tpe-univariate, random    default auto
 *   --optuna LIST         Optuna samplers: tpe, tpe-mv, random, cmaes, or none  default tpe,tpe-mv,random,cmaes
 *   --slots LIST          parallel slots for Strata's samplers                  default 1
 *   --workers N           Optuna processes at once                              default 1
 *   --python PATH         the Python with Optuna (else STRATA_OPTUNA_PYTHON, python3, /usr/bin/python3)
 *   --out FILE            write every run's trace as it finishes (JSON lines; the first line names the definitions)
 *   --reuse LIST          take Optuna's runs from earlier --out files of the same problem definitions
 *   --markdown FILE       write the tables to FILE as well as to stdout
 *   --from LIST           run nothing: make the tables from earlier --out files (e.g. the Optuna side and
 *                         Strata's side run as two processes at once, on a machine with two cores)
 *   --sampler-options JSON  settings for Strata's samplers, e.g. '{"gp":{"outputTransform":"rank"}}' (tuning only)
 *   --tag NAME            label Strata's runs strata:<sampler>~NAME (tuning variants side by side)
 *
 * Optuna runs in a Python process (bench/search-vs-optuna.py, Debian:
 * apt-get install python3-optuna) that asks this process for every loss.
 * Without Python or Optuna the bench says so and runs Strata's side only.
 * Every run's figure is the best TRUE (noise-free) regret among its first B
 * trials, floored at 1e-8; tables give medians over seeds.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isConditional } from '../src/core/search-space.ts';
import { AutoSampler, type AutoOptions } from '../src/proposers/search/auto-sampler.ts';
import { GpSampler, type GpOptions } from '../src/proposers/search/gp/gp-sampler.ts';
import { RandomSampler } from '../src/proposers/search/random-sampler.ts';
import type { Sampler } from '../src/proposers/search/sampler.ts';
import { TpeSampler, type TpeOptions } from '../src/proposers/search/tpe-sampler.ts';
import { OptunaBridge, probeOptuna, type OptunaSampler } from './search-optuna-bridge.ts';
import { selectProblems, type BenchProblem } from './search-problems.ts';
import { buildCells, detailTable, slotsTable, summaryTable, timingTable, worseThanTable, type Budget } from './search-report.ts';
import { runOptuna, runStrata, type RunRecord } from './search-run.ts';

/** Settings passed to Strata's samplers with --sampler-options (for tuning; the reported runs use the defaults). */
interface SamplerOptions {
  gp?: GpOptions;
  tpe?: TpeOptions;
  auto?: AutoOptions;
}

const STRATA: Record<string, (options: SamplerOptions) => Sampler> = {
  auto: (options) => new AutoSampler(options.auto ?? {}),
  gp: (options) => new GpSampler(options.gp ?? {}),
  tpe: (options) => new TpeSampler({ multivariate: true, ...options.tpe }),
  'tpe-univariate': (options) => new TpeSampler({ ...options.tpe, multivariate: false }),
  random: () => new RandomSampler(),
};
const OPTUNA: readonly OptunaSampler[] = ['tpe', 'tpe-mv', 'random', 'cmaes'];

interface Options {
  seeds: number[];
  trials: number;
  budgets: Budget[];
  problems: string[];
  strata: string[];
  optuna: OptunaSampler[];
  slots: number[];
  workers: number;
  python?: string;
  out?: string;
  reuse?: string[];
  markdown?: string;
  samplerOptions: SamplerOptions;
  /** Label suffix for Strata's records, so tuning variants can share one results file. */
  tag?: string;
  /** Report from these --out files instead of running. */
  from?: string[];
}

export function parseOptions(argv: readonly string[]): Options {
  const options: Options = { seeds: range(0, 20), trials: 100, budgets: [30, 100, '10xD'], problems: [], strata: ['auto'], optuna: [...OPTUNA], slots: [1], workers: 1, samplerOptions: {} };
  const list = (value: string) => value.split(',').map((item) => item.trim()).filter(Boolean);
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`${flag} needs a value; see the comment at the top of bench/search-vs-optuna.ts`);
    i++;
    switch (flag) {
      case '--seeds': {
        const match = /^(\d+):(\d+)$/.exec(value);
        if (!match) throw new Error(`--seeds takes START:COUNT, got ${JSON.stringify(value)}`);
        options.seeds = range(Number(match[1]), Number(match[2]));
        break;
      }
      case '--trials':
        options.trials = positiveInteger(flag, value);
        break;
      case '--budgets':
        options.budgets = list(value).map((item) => (item === '10xD' ? '10xD' : positiveInteger(flag, item)));
        break;
      case '--problems':
        options.problems = list(value);
        break;
      case '--strata':
        options.strata = value === 'none' ? [] : list(value);
        for (const name of options.strata) if (!(name in STRATA)) throw new Error(`unknown Strata sampler ${JSON.stringify(name)}; use ${Object.keys(STRATA).join(', ')}`);
        break;
      case '--optuna':
        options.optuna = value === 'none' ? [] : (list(value) as OptunaSampler[]);
        for (const name of options.optuna) if (!OPTUNA.includes(name)) throw new Error(`unknown Optuna sampler ${JSON.stringify(name)}; use ${OPTUNA.join(', ')} or none`);
        break;
      case '--slots':
        options.slots = list(value).map((item) => positiveInteger(flag, item));
        break;
      case '--workers':
        options.workers = positiveInteger(flag, value);
        break;
      case '--python':
        options.python = value;
        break;
      case '--out':
        options.out = value;
        break;
      case '--reuse':
        options.reuse = list(value);
        break;
      case '--markdown':
        options.markdown = value;
        break;
      case '--sampler-options':
        options.samplerOptions = JSON.parse(value) as SamplerOptions;
        break;
      case '--tag':
        options.tag = value;
        break;
      case '--from':
        options.from = list(value);
        break;
      default:
        throw new Error(`unknown option ${JSON.stringify(flag)}; see the comment at the top of bench/search-vs-optuna.ts`);
    }
  }
  return options;
}

/** A hash of the files that define the problems and how a run is scored: reused runs must match it. */
function definitionsFingerprint(): string {
  const hash = createHash('sha256');
  for (const file of ['search-bbob.ts', 'search-problems.ts', 'search-vs-optuna.py']) hash.update(readFileSync(fileURLToPath(new URL(`./${file}`, import.meta.url))));
  return hash.digest('hex').slice(0, 16);
}

/** The first line of an --out file. */
interface ResultsHeader {
  fingerprint: string;
}

/** Records of --out files (JSON lines after a header), checked against the current definitions. */
export function readResults(files: readonly string[], fingerprint = definitionsFingerprint()): RunRecord[] {
  const records: RunRecord[] = [];
  for (const file of files) {
    const [first, ...lines] = readFileSync(file, 'utf8').split('\n').filter((line) => line.trim() !== '');
    const header = JSON.parse(first ?? '{}') as ResultsHeader;
    if (header.fingerprint !== fingerprint) throw new Error(`${file} was made from other problem definitions (fingerprint ${header.fingerprint}, now ${fingerprint}); rerun without it`);
    for (const line of lines) records.push(JSON.parse(line) as RunRecord);
  }
  return records;
}

/** Run everything the options ask for and return the records (Optuna's side skipped, with the reason, when unavailable). */
export async function runBenchmark(options: Options, log: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): Promise<{ records: RunRecord[]; optuna: string | null; skipped?: string }> {
  const problems = selectProblems(options.problems);
  if (problems.length === 0) throw new Error(`no problem matches ${options.problems.join(', ')}`);
  const fingerprint = definitionsFingerprint();
  const reused = new Map<string, RunRecord>();
  for (const record of readResults(options.reuse ?? [], fingerprint)) if (record.sampler.startsWith('optuna:')) reused.set(`${record.problem}|${record.sampler}|${record.seed}`, record);
  const out = options.out;
  if (out) writeFileSync(out, `${JSON.stringify({ fingerprint } satisfies ResultsHeader)}\n`);
  const records: RunRecord[] = [];
  const keep = (record: RunRecord) => {
    records.push(record);
    if (out) appendFileSync(out, `${JSON.stringify(record)}\n`);
  };
  const optunaJobs: Array<{ problem: BenchProblem; sampler: OptunaSampler; seed: number }> = [];
  for (const problem of problems) {
    for (const sampler of options.optuna) {
      // CMA-ES models continuous spaces only; Optuna would sample the rest at random.
      if (sampler === 'cmaes' && (problem.group === 'mixed' || isConditional(problem.space))) continue;
      for (const seed of options.seeds) {
        const old = reused.get(`${problem.id}|optuna:${sampler}|${seed}`);
        if (old && old.trace.length >= options.trials) keep({ ...old, trace: old.trace.slice(0, options.trials) });
        else optunaJobs.push({ problem, sampler, seed });
      }
    }
  }

  let optuna: string | null = null;
  let skipped: string | undefined;
  let optunaDone: Promise<void> = Promise.resolve();
  if (optunaJobs.length > 0) {
    const probe = probeOptuna(options.python ?? process.env.STRATA_OPTUNA_PYTHON);
    if ('unavailable' in probe) {
      skipped = probe.unavailable;
      log(`SKIPPING Optuna's side: ${skipped}`);
    } else {
      optuna = `${probe.version} (${probe.python})`;
      log(`Optuna ${optuna}: ${optunaJobs.length} runs on ${options.workers} process(es)`);
      optunaDone = runPool(optunaJobs, options.workers, probe.python, options.trials, keep, log);
    }
  } else if (reused.size > 0) {
    optuna = 'reused';
  }

  // Strata's runs interleave with Optuna's on the event loop (the Python side waits for our answers).
  let done = 0;
  const total = problems.length * options.strata.length * options.slots.length * options.seeds.length;
  for (const problem of problems) {
    for (const name of options.strata) {
      for (const slots of options.slots) {
        for (const seed of options.seeds) {
          keep(await runStrata(problem, STRATA[name]!(options.samplerOptions), options.tag ? `${name}~${options.tag}` : name, seed, options.trials, slots));
          if (++done % 50 === 0 || done === total) log(`strata ${done}/${total}`);
        }
      }
    }
  }
  await optunaDone;
  return { records, optuna, ...(skipped !== undefined ? { skipped } : {}) };
}

async function runPool(jobs: Array<{ problem: BenchProblem; sampler: OptunaSampler; seed: number }>, workers: number, python: string, trials: number, keep: (record: RunRecord) => void, log: (line: string) => void): Promise<void> {
  let next = 0;
  let done = 0;
  const worker = async () => {
    const bridge = await OptunaBridge.start(python);
    try {
      while (next < jobs.length) {
        const job = jobs[next++]!;
        keep(await runOptuna(bridge, job.problem, job.sampler, job.seed, trials));
        if (++done % 50 === 0 || done === jobs.length) log(`optuna ${done}/${jobs.length}`);
      }
    } finally {
      await bridge.close();
    }
  };
  await Promise.all(Array.from({ length: Math.min(workers, jobs.length) }, worker));
}

/** The tables for a finished benchmark, as markdown. */
export function report(records: readonly RunRecord[], options: Options, optuna: string | null, skipped?: string): string {
  const problems = selectProblems(options.problems);
  const cells = buildCells(records, problems, options.budgets, options.seeds);
  const strata = [...new Set(records.map((record) => record.sampler).filter((sampler) => sampler.startsWith('strata:')))];
  const optunaSamplers = [...new Set(records.map((record) => record.sampler).filter((sampler) => sampler.startsWith('optuna:')))];
  const references = ['optuna:tpe', 'optuna:random'].filter((reference) => optunaSamplers.includes(reference));
  const focus = strata[0] ?? 'strata:auto';
  const slots = slotsTable(cells, options.budgets, strata);
  const parts = [
    `Seeds ${options.seeds[0]}..${options.seeds[options.seeds.length - 1]} (${options.seeds.length}), ${options.trials} trials per run; Optuna ${optuna ?? `not run: ${skipped ?? 'not asked for'}`}.`,
    '',
    '### Geometric mean of median-regret ratios (below 1: Strata better; "worse on k of n": of the n cells both ran, k where Strata\'s median is higher)',
    '',
    references.length > 0 ? summaryTable(cells, options.budgets, strata, references) : '(no Optuna reference runs)',
    '',
    ...(slots ? ['### Parallel slots: median-regret ratio to one slot at the same number of trials (geometric mean)', '', slots, ''] : []),
    ...(optunaSamplers.includes('optuna:random') ? [`### Cells where ${focus.replace(':', ' ')}'s median regret is above random search's`, '', worseThanTable(cells, focus, 'optuna:random'), ''] : []),
    '### Per problem: median regret [IQR] over seeds',
    '',
    detailTable(cells, [...strata, ...optunaSamplers], focus),
    '',
    '### Time per trial',
    '',
    timingTable(records),
  ];
  return parts.join('\n');
}

function range(start: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => start + i);
}

function positiveInteger(flag: string, value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new Error(`${flag} takes a positive integer, got ${JSON.stringify(value)}`);
  return Number(value);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const options = parseOptions(process.argv.slice(2));
  const { records, optuna, skipped } = options.from ? { records: readResults(options.from), optuna: `from ${options.from.join(', ')}`, skipped: undefined } : await runBenchmark(options);
  const text = report(records, options, optuna, skipped);
  if (options.markdown) writeFileSync(options.markdown, `${text}\n`);
  console.log(text);
}
