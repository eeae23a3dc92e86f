import type { Random } from '../../core/random.ts';
import type { ParamSpec, ParamValue } from '../../core/search-space.ts';
import { clamp } from './random-draw.ts';
import { logNormalMass, logNormalPdf, logSumExp, sampleTruncatedNormal } from './truncated-normal.ts';

/**
 * A one-dimensional Parzen estimator: a weighted mixture with one kernel per
 * observation plus a broad prior kernel, as TPE fits to the good (l) and the
 * bad (g) observations. Values go in and come out in the parameter's own type.
 */
export interface ParzenEstimator {
  /** One draw, already typed and inside the dimension's bounds. */
  sample(rng: Random): ParamValue;
  /** Log density (floats, in the transformed space) or log mass (ints, choices) at a valid value. */
  logDensity(value: ParamValue): number;
}

/** Knobs of the estimator, named as in Optuna's TPESampler. */
export interface ParzenOptions {
  /** Weight of the prior kernel relative to an observation of weight 1. */
  priorWeight: number;
  /** Floor bandwidths at range / min(100, kernels + 1) so a few close points cannot collapse a kernel. */
  considerMagicClip: boolean;
  /** Let the outermost kernels widen up to the bounds instead of to their inner neighbour. */
  considerEndpoints: boolean;
}

/**
 * Whether a value may feed an estimator of this dimension: the right type and
 * inside the current bounds (a resumed study may have narrowed them).
 */
export function isValidValue(spec: ParamSpec, value: ParamValue | undefined): value is ParamValue {
  if (spec.type === 'choice') return value !== undefined && spec.values.includes(value);
  if (typeof value !== 'number' || !Number.isFinite(value) || value < spec.low || value > spec.high) return false;
  return spec.type === 'float' || Number.isInteger(value);
}

/**
 * Fit an estimator to `values` (all valid for `spec`) with per-value `weights`.
 *
 * @example
 * const l = buildParzenEstimator({ type: 'float', low: 0, high: 1 }, [0.2, 0.3], [1, 1], options);
 * l.logDensity(0.25) > l.logDensity(0.9); // true
 */
export function buildParzenEstimator(spec: ParamSpec, values: readonly ParamValue[], weights: readonly number[], options: ParzenOptions): ParzenEstimator {
  const mixture = normalize([...weights, options.priorWeight]);
  if (spec.type === 'choice') return categoricalEstimator(spec.values, values, mixture, options.priorWeight);
  return numericEstimator(spec, values as readonly number[], mixture, options);
}

/** Kernels live in log space for log dimensions; ints own the cell [k - 0.5, k + 0.5]. */
function numericEstimator(spec: Extract<ParamSpec, { type: 'float' | 'int' }>, values: readonly number[], mixture: readonly number[], options: ParzenOptions): ParzenEstimator {
  const log = spec.log === true;
  const discrete = spec.type === 'int';
  const forward = (x: number): number => (log ? Math.log(x) : x);
  const half = discrete ? 0.5 : 0;
  const low = forward(spec.low - half);
  const high = forward(spec.high + half);
  const width = high - low;

  const observed = values.map(forward);
  const mus = [...observed, 0.5 * (low + high)];
  const sigmas = [...bandwidths(observed, low, high, options), width];
  const logWeights = mixture.map(Math.log);
  const logNormalizers = mus.map((mu, i) => logNormalMass((low - mu) / sigmas[i]!, (high - mu) / sigmas[i]!));
  const kernelCount = mus.length;
  const kernelMus = Float64Array.from(mus);
  const kernelSigmas = Float64Array.from(sigmas);
  const kernelOffsets = Float64Array.from(mus, (_, i) => logWeights[i]! - logNormalizers[i]! - Math.log(sigmas[i]!) + logNormalPdf(0));
  const scratch = new Float64Array(kernelCount);

  return {
    sample(rng) {
      const i = pickIndex(mixture, rng);
      const x = sampleTruncatedNormal(rng, mus[i]!, sigmas[i]!, low, high);
      const value = log ? Math.exp(x) : x;
      return discrete ? clamp(Math.round(value), spec.low, spec.high) : clamp(value, spec.low, spec.high);
    },
    logDensity(value) {
      const v = value as number;
      if (discrete) {
        // Mass of the integer's cell under each kernel, renormalized to the domain.
        const cellLow = forward(v - 0.5);
        const cellHigh = forward(v + 0.5);
        return logSumExp(mus.map((mu, i) => logWeights[i]! + logNormalMass((cellLow - mu) / sigmas[i]!, (cellHigh - mu) / sigmas[i]!) - logNormalizers[i]!));
      }
      const x = forward(v);
      // Inline log-sum-exp: this runs for every candidate against every kernel, the hot loop of TPE.
      let max = Number.NEGATIVE_INFINITY;
      for (let i = 0; i < kernelCount; i++) {
        const z = (x - kernelMus[i]!) / kernelSigmas[i]!;
        const score = kernelOffsets[i]! - 0.5 * z * z;
        scratch[i] = score;
        if (score > max) max = score;
      }
      if (max === Number.NEGATIVE_INFINITY) return max;
      let sum = 0;
      for (let i = 0; i < kernelCount; i++) sum += Math.exp(scratch[i]! - max);
      return max + Math.log(sum);
    },
  };
}

/**
 * Optuna's univariate bandwidth rule: each kernel is as wide as the larger gap
 * to its neighbours (the prior's centre counts as a neighbour, the bounds
 * close the ends), then clipped to [range / min(100, kernels + 1), range].
 */
function bandwidths(mus: readonly number[], low: number, high: number, options: ParzenOptions): number[] {
  const width = high - low;
  const withPrior = [...mus, 0.5 * (low + high)];
  const order = withPrior.map((_, i) => i).sort((a, b) => withPrior[a]! - withPrior[b]! || a - b);
  const points = [low, ...order.map((i) => withPrior[i]!), high];
  const sorted = order.map((_, j) => Math.max(points[j + 1]! - points[j]!, points[j + 2]! - points[j + 1]!));
  if (!options.considerEndpoints && sorted.length >= 2) {
    // Without endpoints, the outermost kernels look only inward, so a point
    // near a bound does not get a kernel as wide as its distance to the bound.
    sorted[0] = points[2]! - points[1]!;
    sorted[sorted.length - 1] = points[points.length - 2]! - points[points.length - 3]!;
  }
  const minimum = options.considerMagicClip ? width / Math.min(100, withPrior.length + 1) : 1e-12 * Math.max(width, 1e-300);
  const sigmas = new Array<number>(withPrior.length);
  order.forEach((original, j) => {
    sigmas[original] = clamp(sorted[j]!, minimum, width);
  });
  return sigmas.slice(0, mus.length);
}

/**
 * Each observation's kernel puts weight 1 on its value plus priorWeight /
 * kernels on every value; the prior kernel is uniform. The mixture collapses
 * to one probability vector.
 */
function categoricalEstimator(choices: readonly ParamValue[], values: readonly ParamValue[], mixture: readonly number[], priorWeight: number): ParzenEstimator {
  const kernelCount = values.length + 1;
  const smoothing = priorWeight / kernelCount;
  const rowTotal = 1 + smoothing * choices.length;
  const priorMass = mixture[mixture.length - 1]! / choices.length;
  const masses = choices.map(() => priorMass);
  values.forEach((value, i) => {
    const index = choices.indexOf(value);
    const weight = mixture[i]!;
    for (let j = 0; j < choices.length; j++) masses[j]! += (weight * (smoothing + (j === index ? 1 : 0))) / rowTotal;
  });
  const logMasses = masses.map(Math.log);
  return {
    sample: (rng) => choices[pickIndex(masses, rng)]!,
    logDensity: (value) => logMasses[choices.indexOf(value)] ?? Number.NEGATIVE_INFINITY,
  };
}

function normalize(weights: readonly number[]): number[] {
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  return weights.map((weight) => weight / total);
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
