/**
 * One benchmark run: a sampler optimizing one problem instance for a number
 * of trials, sequentially or with several slots in flight. Records the best
 * true regret after each trial.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { Random } from '../src/core/random.ts';
import { activeOnly, isActive, paramsKey, type Observation, type ParamValues } from '../src/core/search-space.ts';
import { isValidValue } from '../src/proposers/search/parzen-estimator.ts';
import type { Sampler } from '../src/proposers/search/sampler.ts';
import type { OptunaBridge, OptunaSampler } from './search-optuna-bridge.ts';
import type { BenchProblem } from './search-problems.ts';

/** Regrets below this count as hits of the optimum (BBOB's final target precision). */
export const REGRET_FLOOR = 1e-8;

export interface RunRecord {
  problem: string;
  /** `strata:<name>` or `optuna:<name>`, with `@<slots>` when run with parallel slots. */
  sampler: string;
  seed: number;
  slots: number;
  /** Best true regret after trial 1, 2, ... (floored at REGRET_FLOOR). */
  trace: number[];
  /** Wall time spent proposing (Strata) or inside Optuna's study (Optuna), seconds. */
  seconds: number;
  /** How many proposals each underlying sampler made (Strata's auto reports its picks). */
  madeBy?: Record<string, number>;
}

/** The generators of one run: the same noise stream for every sampler on a problem and seed. */
function streams(problem: BenchProblem, seed: number): { rng: Random; noise: Random } {
  return { rng: Random.fromSeed(`bench-search:${problem.id}:${seed}`), noise: Random.fromSeed(`bench-search-noise:${problem.id}:${seed}`) };
}

/**
 * Run a Strata sampler. With `slots` > 1, each proposal is made while the
 * previous slots - 1 are still pending (they finish in proposal order), as on
 * an executor with that many slots and equal trial durations.
 *
 * @example
 * const record = await runStrata(problem, new AutoSampler(), 'auto', 0, 100, 1);
 */
export async function runStrata(problem: BenchProblem, sampler: Sampler, label: string, seed: number, trials: number, slots: number): Promise<RunRecord> {
  const { rng, noise } = streams(problem, seed);
  const instance = problem.instance(seed);
  const history: Observation[] = [];
  const pending: Observation[] = [];
  const seen = new Set<string>();
  const trace: number[] = [];
  const madeBy: Record<string, number> = {};
  let best = Number.POSITIVE_INFINITY;
  let seconds = 0;
  for (let trial = 0; trial < trials; trial++) {
    if (pending.length >= slots) history.push(pending.shift()!);
    const started = performance.now();
    const result = sampler.sample({ space: problem.space, history, pending: pending.map((observation) => observation.params), rng, avoid: seen });
    seconds += (performance.now() - started) / 1000;
    const key = `${result.sampler}${result.startup ? ':startup' : ''}`;
    madeBy[key] = (madeBy[key] ?? 0) + 1;
    seen.add(paramsKey(result.params));
    pending.push({ params: result.params, loss: instance.observe(result.params, noise) });
    best = Math.min(best, Math.max(REGRET_FLOOR, instance.regret(result.params)));
    trace.push(best);
    // Let the Optuna side's questions through between proposals when both run at once.
    if (trial % 5 === 4) await yieldToEventLoop();
  }
  return { problem: problem.id, sampler: slots > 1 ? `strata:${label}@${slots}` : `strata:${label}`, seed, slots, trace, seconds, madeBy };
}

/**
 * Run one of Optuna's samplers through the bridge, sequentially.
 *
 * @example
 * const record = await runOptuna(bridge, problem, 'tpe', 0, 100);
 */
export async function runOptuna(bridge: OptunaBridge, problem: BenchProblem, sampler: OptunaSampler, seed: number, trials: number): Promise<RunRecord> {
  const { noise } = streams(problem, seed);
  const instance = problem.instance(seed);
  const trace: number[] = [];
  let best = Number.POSITIVE_INFINITY;
  const { seconds } = await bridge.run({ id: `${problem.id}:${sampler}:${seed}`, sampler, seed, trials, space: problem.space }, (params: ParamValues) => {
    // Optuna must ask about exactly the active parameters, in bounds: the two sides then agree on what a point is.
    const expected = activeOnly(problem.space, params);
    if (paramsKey(expected) !== paramsKey(params) || Object.keys(problem.space).some((name) => isActive(problem.space, name, params) && !isValidValue(problem.space[name]!, params[name]))) {
      throw new Error(`Optuna proposed ${JSON.stringify(params)}, which is not a point of ${problem.id}'s space`);
    }
    best = Math.min(best, Math.max(REGRET_FLOOR, instance.regret(params)));
    trace.push(best);
    return instance.observe(params, noise);
  });
  return { problem: problem.id, sampler: `optuna:${sampler}`, seed, slots: 1, trace, seconds };
}
