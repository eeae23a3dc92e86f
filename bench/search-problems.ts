/**
 * The problems of the search benchmark, each defined once: both Strata's
 * samplers and Optuna's (through bench/search-vs-optuna.py) get their losses
 * from these functions, over the same search spaces.
 *
 * - bbob: the 24 noiseless BBOB functions in 2, 5 and 10 dimensions, x_i in [-5, 5].
 * - bbob-noisy: eight of them observed through BBOB's severe Gaussian noise
 *   model, f * exp(N(0, 1)) (the functions of BBOB's f107..f128 block).
 *   Regret is always measured on the noiseless value.
 * - mixed: small hyperparameter-like functions over log-scale floats,
 *   integers, choices and conditional parameters (`when`), with known optima.
 */
import { Random } from '../src/core/random.ts';
import type { ParamValues, SearchSpace } from '../src/core/search-space.ts';
import { bbobInstance, BBOB_NAMES } from './search-bbob.ts';

export type ProblemGroup = 'bbob' | 'bbob-noisy' | 'mixed';

/** One seeded instance of a problem. */
export interface ProblemInstance {
  /** True (noise-free) distance to the optimum, >= 0. */
  regret(params: ParamValues): number;
  /** What the sampler sees for the `trial`-th evaluation (0-based); noisy problems draw from `noise`. */
  observe(params: ParamValues, noise: Random): number;
}

export interface BenchProblem {
  /** Stable id used on both sides and in the tables, e.g. `f08-rosenbrock-5d`. */
  id: string;
  group: ProblemGroup;
  /** Number of declared parameters (the "D" of a 10 x D budget). */
  dimension: number;
  space: SearchSpace;
  instance(seed: number): ProblemInstance;
}

const num = (params: ParamValues, name: string): number => params[name] as number;

function cube(d: number): SearchSpace {
  return Object.fromEntries(Array.from({ length: d }, (_, i) => [`x${i}`, { type: 'float', low: -5, high: 5 } as const]));
}

function bbobProblem(id: number, d: number, noisy: boolean): BenchProblem {
  const names = Array.from({ length: d }, (_, i) => `x${i}`);
  return {
    id: `${noisy ? 'noisy-' : ''}f${String(id).padStart(2, '0')}-${BBOB_NAMES[id]}-${d}d`,
    group: noisy ? 'bbob-noisy' : 'bbob',
    dimension: d,
    space: cube(d),
    instance(seed) {
      const f = bbobInstance(id, d, seed);
      const value = (params: ParamValues) => f.value(names.map((name) => num(params, name)));
      return {
        regret: value,
        // BBOB's f_GN with beta = 1, plus its 1.01e-8 floor so the noise never hides a hit of the optimum.
        observe: noisy ? (params, noise) => value(params) * Math.exp(noise.normal()) + 1.01e-8 : value,
      };
    },
  };
}

/** Rosenbrock in log space: the 4-D valley the issue reports (lr-like parameters from 1e-5 to 1). */
const logRosenbrock: BenchProblem = {
  id: 'mixed-log-rosenbrock-4d',
  group: 'mixed',
  dimension: 4,
  space: Object.fromEntries(['a', 'b', 'c', 'd'].map((name) => [name, { type: 'float', low: 1e-5, high: 1, log: true } as const])),
  instance: () => {
    const regret = (params: ParamValues) => {
      const x = ['a', 'b', 'c', 'd'].map((name) => (Math.log10(num(params, name)) + 2.5) * 0.8);
      let sum = 0;
      for (let i = 0; i < 3; i++) sum += 100 * (x[i]! * x[i]! - x[i + 1]!) ** 2 + (x[i]! - 1) ** 2;
      return sum;
    };
    return { regret, observe: regret };
  },
};

/** Integers (one on a log scale) and floats with interactions: the best learning rate and dropout depend on depth. */
const integerNetwork: BenchProblem = {
  id: 'mixed-int-network-4d',
  group: 'mixed',
  dimension: 4,
  space: {
    layers: { type: 'int', low: 1, high: 8 },
    width: { type: 'int', low: 16, high: 1024, log: true },
    lr: { type: 'float', low: 1e-5, high: 1e-1, log: true },
    dropout: { type: 'float', low: 0, high: 0.8 },
  },
  instance: () => {
    const regret = (params: ParamValues) => {
      const layers = num(params, 'layers');
      const bestLr = -3 + (0.6 * (layers - 4)) / 4;
      return (
        0.1 * (layers - 5) ** 2 +
        0.2 * (Math.log2(num(params, 'width')) - 8 - 0.25 * (layers - 5)) ** 2 +
        (Math.log10(num(params, 'lr')) - bestLr) ** 2 +
        4 * (num(params, 'dropout') - 0.05 * layers) ** 2
      );
    };
    return { regret, observe: regret };
  },
};

/** Choices with their own optimum each (activation), an ordinal choice (batch) coupled to the learning rate. */
const categoricalNetwork: BenchProblem = {
  id: 'mixed-categorical-4d',
  group: 'mixed',
  dimension: 4,
  space: {
    activation: { type: 'choice', values: ['relu', 'gelu', 'tanh', 'sigmoid'] },
    batch: { type: 'choice', values: [16, 32, 64, 128, 256] },
    lr: { type: 'float', low: 1e-5, high: 1, log: true },
    weight_decay: { type: 'float', low: 1e-6, high: 1e-1, log: true },
  },
  instance: () => {
    const offset: Record<string, number> = { relu: 0.15, gelu: 0, tanh: 0.4, sigmoid: 0.8 };
    const lrShift: Record<string, number> = { relu: -2.5, gelu: -3.2, tanh: -2, sigmoid: -1.5 };
    const regret = (params: ParamValues) => {
      const activation = params.activation as string;
      const batchTerm = 0.3 * Math.log2(num(params, 'batch') / 64);
      return (
        offset[activation]! +
        0.05 * Math.log2(num(params, 'batch') / 64) ** 2 +
        (Math.log10(num(params, 'lr')) - lrShift[activation]! - batchTerm) ** 2 +
        0.25 * (Math.log10(num(params, 'weight_decay')) + 4) ** 2
      );
    };
    return { regret, observe: regret };
  },
};

/** The example: optimizer-specific parameters that exist only for their optimizer. */
const conditionalOptimizer: BenchProblem = {
  id: 'mixed-conditional-optimizer',
  group: 'mixed',
  dimension: 7,
  space: {
    optimizer: { type: 'choice', values: ['sgd', 'adam', 'rmsprop'] },
    lr: { type: 'float', low: 1e-5, high: 1, log: true },
    momentum: { type: 'float', low: 0.5, high: 0.99, when: { optimizer: 'sgd' } },
    nesterov: { type: 'choice', values: [true, false], when: { optimizer: 'sgd' } },
    beta1: { type: 'float', low: 0.5, high: 0.99, when: { optimizer: 'adam' } },
    beta2: { type: 'float', low: 0.9, high: 0.9999, when: { optimizer: 'adam' } },
    rho: { type: 'float', low: 0.5, high: 0.99, when: { optimizer: 'rmsprop' } },
  },
  instance: () => {
    const regret = (params: ParamValues) => {
      const lr = Math.log10(num(params, 'lr'));
      switch (params.optimizer) {
        case 'sgd':
          return 0.1 + (lr + 1.5) ** 2 + 20 * (num(params, 'momentum') - 0.9) ** 2 + (params.nesterov === true ? 0 : 0.05);
        case 'adam':
          return (lr + 3.3) ** 2 + 20 * (num(params, 'beta1') - 0.85) ** 2 + 0.5 * (Math.log10(1 - num(params, 'beta2')) + 3) ** 2;
        default:
          return 0.2 + (lr + 2.7) ** 2 + 20 * (num(params, 'rho') - 0.9) ** 2;
      }
    };
    return { regret, observe: regret };
  },
};

/** Two model families with their own parameters, one of them nested one level deeper (an int parent). */
const conditionalArchitecture: BenchProblem = {
  id: 'mixed-conditional-architecture',
  group: 'mixed',
  dimension: 7,
  space: {
    model: { type: 'choice', values: ['mlp', 'cnn'] },
    lr: { type: 'float', low: 1e-5, high: 1, log: true },
    layers: { type: 'int', low: 1, high: 4, when: { model: 'mlp' } },
    width: { type: 'int', low: 16, high: 1024, log: true, when: { model: 'mlp' } },
    bottleneck: { type: 'float', low: 0.1, high: 1, when: { layers: [3, 4] } },
    kernel: { type: 'choice', values: [3, 5, 7], when: { model: 'cnn' } },
    channels: { type: 'int', low: 8, high: 256, log: true, when: { model: 'cnn' } },
  },
  instance: () => {
    const regret = (params: ParamValues) => {
      const lr = Math.log10(num(params, 'lr'));
      if (params.model === 'mlp') {
        const layers = num(params, 'layers');
        const deep = layers >= 3 ? 0.5 * (num(params, 'bottleneck') - 0.4) ** 2 : 0.1;
        return 0.15 * (layers - 3) ** 2 + 0.1 * (Math.log2(num(params, 'width')) - 9) ** 2 + (lr + 3) ** 2 + deep;
      }
      const kernel: Record<number, number> = { 3: 0.05, 5: 0, 7: 0.12 };
      return 0.05 + kernel[num(params, 'kernel')]! + 0.1 * (Math.log2(num(params, 'channels')) - 6) ** 2 + (lr + 2.5) ** 2;
    };
    return { regret, observe: regret };
  },
};

/** The mixed conditional optimizer again, seen through additive noise (sd 0.1, about a seed-to-seed spread). */
const noisyConditionalOptimizer: BenchProblem = {
  ...conditionalOptimizer,
  id: 'mixed-conditional-optimizer-noisy',
  instance: (seed) => {
    const inner = conditionalOptimizer.instance(seed);
    return { regret: inner.regret, observe: (params, noise) => inner.regret(params) + noise.normal(0, 0.1) };
  },
};

export const NOISY_BBOB = [1, 8, 7, 2, 14, 17, 19, 21];

/** Every problem, in table order. */
export function allProblems(): BenchProblem[] {
  const problems: BenchProblem[] = [];
  for (const d of [2, 5, 10]) for (let id = 1; id <= 24; id++) problems.push(bbobProblem(id, d, false));
  for (const d of [2, 5, 10]) for (const id of NOISY_BBOB) problems.push(bbobProblem(id, d, true));
  problems.push(logRosenbrock, integerNetwork, categoricalNetwork, conditionalOptimizer, conditionalArchitecture, noisyConditionalOptimizer);
  return problems;
}

/**
 * Problems whose id matches any of the patterns (substring or /regex/), or all.
 *
 * @example
 * selectProblems(['f0[1-4]-.*-2d']); // the first four BBOB functions in 2-D
 */
export function selectProblems(patterns: readonly string[]): BenchProblem[] {
  const all = allProblems();
  if (patterns.length === 0) return all;
  const tests = patterns.map((pattern) => new RegExp(pattern));
  return all.filter((problem) => tests.some((test) => test.test(problem.id)));
}
