import type { Random } from '../../core/random.ts';
import type { ParamSpec, ParamValue } from '../../core/search-space.ts';
import type { ParzenOptions } from './parzen-estimator.ts';
import { clamp } from './random-draw.ts';
import { logNormalMass, logNormalPdf, sampleTruncatedNormal } from './truncated-normal.ts';

/** Optuna's multivariate bandwidth factor (SIGMA0_MAGNITUDE). */
const SIGMA0 = 0.2;

/**
 * A joint Parzen estimator over several dimensions: one product kernel per
 * observation plus a broad prior kernel, as Optuna's TPESampler fits with
 * `multivariate=True`. Unlike the univariate estimator, a draw keeps the
 * dimensions of one observation together, so TPE can follow a correlated
 * valley instead of combining good values of unrelated points.
 */
export interface MultivariateParzenEstimator {
  /** One draw, one value per dimension (in the order the estimator was built with), typed and inside bounds. */
  sample(rng: Random): ParamValue[];
  /** Log density of a point (floats in their transformed space; ints and choices as masses). */
  logDensity(point: readonly ParamValue[]): number;
}

interface NumericDimension {
  kind: 'numeric';
  spec: Extract<ParamSpec, { type: 'float' | 'int' }>;
  forward: (x: number) => number;
  low: number;
  high: number;
  mus: number[];
  sigmas: number[];
  logNormalizers: number[];
  /** Per kernel, -log(sigma) - log(normalizer): the density's constant part. */
  offsets: Float64Array;
  /** Integer dimensions: per value seen, the log mass of its cell under each kernel. */
  cellMasses: Map<number, Float64Array>;
}

interface CategoricalDimension {
  kind: 'categorical';
  choices: readonly ParamValue[];
  /** Per kernel, the log probability of each choice. */
  logProbabilities: number[][];
  probabilities: number[][];
}

type Dimension = NumericDimension | CategoricalDimension;

/**
 * Fit a joint estimator to `points` (each a value per spec, all valid) with
 * per-point `weights`. Numeric bandwidths follow Optuna's multivariate rule,
 * 0.2 * n^(-1/(d + 4)) * range (Scott's rule), clipped below at
 * range / min(100, kernels + 1) when `considerMagicClip`.
 *
 * @example
 * const l = buildMultivariateParzen([{ type: 'float', low: 0, high: 1 }, { type: 'float', low: 0, high: 1 }], [[0.2, 0.8]], [1], options);
 * l.logDensity([0.2, 0.8]) > l.logDensity([0.8, 0.2]); // true
 */
export function buildMultivariateParzen(
  specs: readonly ParamSpec[],
  points: readonly (readonly ParamValue[])[],
  weights: readonly number[],
  options: ParzenOptions,
): MultivariateParzenEstimator {
  const kernelCount = points.length + 1;
  const total = weights.reduce((sum, weight) => sum + weight, 0) + options.priorWeight;
  const mixture = [...weights, options.priorWeight].map((weight) => weight / total);
  const logMixture = mixture.map(Math.log);
  const dimensions: Dimension[] = specs.map((spec, j) => {
    const column = points.map((point) => point[j]!);
    if (spec.type === 'choice') return categorical(spec.values, column, options.priorWeight);
    return numeric(spec, column as number[], kernelCount, specs.length, options);
  });

  return {
    sample(rng) {
      const k = pickIndex(mixture, rng);
      return dimensions.map((dimension) => {
        if (dimension.kind === 'categorical') return dimension.choices[pickIndex(dimension.probabilities[k]!, rng)]!;
        const x = sampleTruncatedNormal(rng, dimension.mus[k]!, dimension.sigmas[k]!, dimension.low, dimension.high);
        const value = dimension.spec.log ? Math.exp(x) : x;
        return dimension.spec.type === 'int' ? clamp(Math.round(value), dimension.spec.low, dimension.spec.high) : clamp(value, dimension.spec.low, dimension.spec.high);
      });
    },
    logDensity(point) {
      const scores = Float64Array.from(logMixture);
      dimensions.forEach((dimension, j) => {
        const value = point[j]!;
        if (dimension.kind === 'categorical') {
          const index = dimension.choices.indexOf(value);
          for (let k = 0; k < kernelCount; k++) scores[k]! += index < 0 ? Number.NEGATIVE_INFINITY : dimension.logProbabilities[k]![index]!;
          return;
        }
        const v = value as number;
        if (dimension.spec.type === 'int') {
          // Candidates repeat the same few integers: each one's per-kernel masses are computed once.
          let masses = dimension.cellMasses.get(v);
          if (masses === undefined) {
            const cellLow = dimension.forward(v - 0.5);
            const cellHigh = dimension.forward(v + 0.5);
            masses = Float64Array.from(dimension.mus, (mu, k) => logNormalMass((cellLow - mu) / dimension.sigmas[k]!, (cellHigh - mu) / dimension.sigmas[k]!) - dimension.logNormalizers[k]!);
            dimension.cellMasses.set(v, masses);
          }
          for (let k = 0; k < kernelCount; k++) scores[k]! += masses[k]!;
          return;
        }
        const x = dimension.forward(v);
        const { mus, sigmas, offsets } = dimension;
        for (let k = 0; k < kernelCount; k++) {
          const z = (x - mus[k]!) / sigmas[k]!;
          scores[k]! += offsets[k]! - 0.5 * z * z;
        }
      });
      let max = Number.NEGATIVE_INFINITY;
      for (const score of scores) if (score > max) max = score;
      if (max === Number.NEGATIVE_INFINITY) return max;
      let sum = 0;
      for (const score of scores) sum += Math.exp(score - max);
      return max + Math.log(sum);
    },
  };
}

function numeric(spec: Extract<ParamSpec, { type: 'float' | 'int' }>, values: readonly number[], kernelCount: number, dimensions: number, options: ParzenOptions): NumericDimension {
  const log = spec.log === true;
  const half = spec.type === 'int' ? 0.5 : 0;
  const forward = log ? Math.log : (x: number) => x;
  const low = forward(spec.low - half);
  const high = forward(spec.high + half);
  const width = high - low;
  const observed = values.map(forward);
  const bandwidth = SIGMA0 * Math.max(values.length, 1) ** (-1 / (dimensions + 4)) * width;
  const minimum = options.considerMagicClip ? width / Math.min(100, kernelCount + 1) : 1e-12 * width;
  const mus = [...observed, 0.5 * (low + high)];
  const sigmas = [...observed.map(() => clamp(bandwidth, minimum, width)), width];
  const logNormalizers = mus.map((mu, k) => logNormalMass((low - mu) / sigmas[k]!, (high - mu) / sigmas[k]!));
  const offsets = Float64Array.from(sigmas, (sigma, k) => logNormalPdf(0) - Math.log(sigma) - logNormalizers[k]!);
  return { kind: 'numeric', spec, forward, low, high, mus, sigmas, logNormalizers, offsets, cellMasses: new Map() };
}

/** Each observation's kernel: weight 1 on its value plus priorWeight / kernels on every value; the prior kernel is uniform. */
function categorical(choices: readonly ParamValue[], values: readonly ParamValue[], priorWeight: number): CategoricalDimension {
  const smoothing = priorWeight / (values.length + 1);
  const rowTotal = 1 + smoothing * choices.length;
  const probabilities = values.map((value) => choices.map((choice) => (smoothing + (choice === value ? 1 : 0)) / rowTotal));
  probabilities.push(choices.map(() => 1 / choices.length));
  return { kind: 'categorical', choices, probabilities, logProbabilities: probabilities.map((row) => row.map(Math.log)) };
}

/** Index drawn with probability proportional to `weights` (which sum to about 1). */
function pickIndex(weights: readonly number[], rng: Random): number {
  let u = rng.next() * weights.reduce((sum, weight) => sum + weight, 0);
  for (let i = 0; i < weights.length - 1; i++) {
    u -= weights[i]!;
    if (u < 0) return i;
  }
  return weights.length - 1;
}
