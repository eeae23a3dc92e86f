import { cholesky, inverseFromCholesky, solveLower, solveUpperTransposed } from './cholesky.ts';
import { minimizeBox } from './lbfgs.ts';

const SQRT5 = Math.sqrt(5);
const LOG_2PI = Math.log(2 * Math.PI);

/** Log-normal priors on the kernel's hyperparameters (means and spreads of their logs). */
export interface GpPriors {
  /** Prior on each log lengthscale, in unit-cube coordinates. */
  lengthscale: { mean: number; sd: number };
  /** Prior on the log signal variance of the standardized targets. */
  signal: { mean: number; sd: number };
  /** Prior on the log noise variance of the standardized targets. */
  noise: { mean: number; sd: number };
}

/**
 * Weak log-normal priors: lengthscales (in unit-cube coordinates) around 0.5
 * (log sd 1, so 0.18 to 1.4 within one sd). A prior that prefers long
 * lengthscales (BoTorch's sqrt(2) + log(d) / 2, made for high-dimensional
 * spaces) made the model near-linear in the weakly identified parameters of
 * our 2- to 10-parameter benchmark, and expected improvement then ran to the
 * bounds along them (ill-conditioned ellipsoids stalled at 10x random's regret).
 */
export function defaultPriors(_dimension: number): GpPriors {
  return {
    lengthscale: { mean: Math.log(0.5), sd: 1 },
    signal: { mean: 0, sd: 1.5 },
    noise: { mean: Math.log(1e-3), sd: 3 },
  };
}

/** Bounds on the log hyperparameters: keeps a fit numerically sane whatever the data. */
const LOG_LENGTHSCALE = [Math.log(5e-3), Math.log(50)] as const;
const LOG_SIGNAL = [Math.log(1e-2), Math.log(1e2)] as const;
const LOG_NOISE = [Math.log(1e-6), Math.log(2)] as const;

export interface GpFitOptions {
  priors: GpPriors;
  /** L-BFGS iterations for the hyperparameters. */
  maxIterations: number;
  /**
   * Starting noise variances of the hyperparameter search, one L-BFGS run
   * each; the fit with the highest posterior wins (default [1e-3]).
   */
  noiseStarts?: readonly number[];
}

/** A posterior prediction at one point, with its gradient when asked. */
export interface GpPrediction {
  mean: number;
  variance: number;
  meanGradient?: Float64Array;
  varianceGradient?: Float64Array;
}

/**
 * A Gaussian process with a constant (zero) mean and an ARD Matérn-5/2
 * kernel plus Gaussian noise, its hyperparameters set by maximizing the
 * marginal likelihood times the priors (MAP). Targets should be standardized.
 *
 * @example
 * const gp = GaussianProcess.fit([new Float64Array([0.1]), new Float64Array([0.9])], new Float64Array([1, -1]), { priors: defaultPriors(1), maxIterations: 30 });
 * gp.predict(new Float64Array([0.1])).mean; // ≈ 1
 */
export class GaussianProcess {
  readonly dimension: number;
  readonly lengthscales: Float64Array;
  readonly signal: number;
  readonly noise: number;
  private readonly points: Float64Array;
  private readonly n: number;
  private readonly factor: Float64Array;
  private readonly alpha: Float64Array;
  private readonly targets: Float64Array;

  private constructor(fields: {
    points: Float64Array;
    n: number;
    dimension: number;
    lengthscales: Float64Array;
    signal: number;
    noise: number;
    factor: Float64Array;
    alpha: Float64Array;
    targets: Float64Array;
  }) {
    this.points = fields.points;
    this.n = fields.n;
    this.dimension = fields.dimension;
    this.lengthscales = fields.lengthscales;
    this.signal = fields.signal;
    this.noise = fields.noise;
    this.factor = fields.factor;
    this.alpha = fields.alpha;
    this.targets = fields.targets;
  }

  static fit(inputs: readonly Float64Array[], targets: Float64Array, options: GpFitOptions): GaussianProcess {
    const n = inputs.length;
    const d = inputs[0]?.length ?? 0;
    const points = new Float64Array(n * d);
    inputs.forEach((x, i) => points.set(x, i * d));
    const squared = pairSquaredDistances(points, n, d);
    const { priors } = options;
    const lower = new Float64Array(d + 2);
    const upper = new Float64Array(d + 2);
    for (let k = 0; k < d; k++) [lower[k], upper[k]] = LOG_LENGTHSCALE;
    [lower[d], upper[d]] = LOG_SIGNAL;
    [lower[d + 1], upper[d + 1]] = LOG_NOISE;

    const objective = (theta: Float64Array) => negativeLogPosterior(theta, squared, targets, n, d, priors);
    let theta: Float64Array | undefined;
    let bestValue = Number.POSITIVE_INFINITY;
    for (const noiseStart of options.noiseStarts ?? [1e-3]) {
      const start = new Float64Array(d + 2);
      start.fill(Math.min(Math.log(1), priors.lengthscale.mean), 0, d);
      start[d] = 0;
      start[d + 1] = Math.log(noiseStart);
      const found = minimizeBox(objective, start, { lower, upper, maxIterations: options.maxIterations, gradientTolerance: 1e-4 });
      if (theta === undefined || found.value < bestValue) {
        theta = found.x;
        bestValue = found.value;
      }
    }
    if (theta === undefined) throw new RangeError('noiseStarts must name at least one starting noise variance');

    const lengthscales = theta.slice(0, d).map(Math.exp);
    const signal = Math.exp(theta[d]!);
    const noise = Math.exp(theta[d + 1]!);
    const { factor } = factorize(squared, n, d, lengthscales, signal, noise);
    const alpha = solveUpperTransposed(factor, n, solveLower(factor, n, targets));
    return new GaussianProcess({ points, n, dimension: d, lengthscales, signal, noise, factor, alpha, targets });
  }

  /**
   * The same process (same hyperparameters) conditioned on more points as
   * well: pending proposals "believed" at `targets` (the Kriging believer:
   * their posterior mean), so the variance there collapses and the next
   * proposal looks elsewhere, while the mean surface stays as the data made it.
   *
   * @example
   * const believer = gp.condition(pending, Float64Array.from(pending, (x) => gp.predict(x).mean));
   */
  condition(inputs: readonly Float64Array[], targets: ArrayLike<number>): GaussianProcess {
    if (inputs.length === 0) return this;
    const d = this.dimension;
    const n = this.n + inputs.length;
    const points = new Float64Array(n * d);
    points.set(this.points);
    inputs.forEach((x, i) => points.set(x, (this.n + i) * d));
    const allTargets = new Float64Array(n);
    allTargets.set(this.targets);
    allTargets.set(Array.from(targets), this.n);
    const { factor } = factorize(pairSquaredDistances(points, n, d), n, d, this.lengthscales, this.signal, this.noise);
    const alpha = solveUpperTransposed(factor, n, solveLower(factor, n, allTargets));
    return new GaussianProcess({ points, n, dimension: d, lengthscales: this.lengthscales, signal: this.signal, noise: this.noise, factor, alpha, targets: allTargets });
  }

  /** Posterior mean at each training point, y - noise * alpha (cheap, no new solves). */
  fittedMeans(): Float64Array {
    return this.targets.map((y, i) => y - this.noise * this.alpha[i]!);
  }

  /** Latent (noise-free) posterior mean and variance at x; with `gradient`, their derivatives in x. */
  predict(x: ArrayLike<number>, gradient = false): GpPrediction {
    const { n, dimension: d, points, lengthscales, signal } = this;
    const k = new Float64Array(n);
    // dk_i/dx_j = -signal * 5/3 * (1 + √5 r) e^(-√5 r) * (x_j - X_ij) / l_j²; keep the scalar factor per i.
    const slope = gradient ? new Float64Array(n) : undefined;
    for (let i = 0; i < n; i++) {
      let r2 = 0;
      const row = i * d;
      for (let j = 0; j < d; j++) {
        const delta = (x[j]! - points[row + j]!) / lengthscales[j]!;
        r2 += delta * delta;
      }
      const r = Math.sqrt(r2);
      const decay = Math.exp(-SQRT5 * r);
      k[i] = signal * (1 + SQRT5 * r + (5 / 3) * r2) * decay;
      if (slope) slope[i] = -signal * (5 / 3) * (1 + SQRT5 * r) * decay;
    }
    let mean = 0;
    for (let i = 0; i < n; i++) mean += k[i]! * this.alpha[i]!;
    const v = solveLower(this.factor, n, k);
    let explained = 0;
    for (let i = 0; i < n; i++) explained += v[i]! * v[i]!;
    const variance = Math.max(signal - explained, 1e-12 * signal);
    if (!slope) return { mean, variance };

    const w = solveUpperTransposed(this.factor, n, v);
    const meanGradient = new Float64Array(d);
    const varianceGradient = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      const row = i * d;
      const a = slope[i]! * this.alpha[i]!;
      const b = -2 * slope[i]! * w[i]!;
      for (let j = 0; j < d; j++) {
        const scaled = (x[j]! - points[row + j]!) / (lengthscales[j]! * lengthscales[j]!);
        meanGradient[j]! += a * scaled;
        varianceGradient[j]! += b * scaled;
      }
    }
    return { mean, variance, meanGradient, varianceGradient };
  }
}

/** Per pair i > j and dimension, the squared coordinate difference (packed lower triangle, row by row). */
export function pairSquaredDistances(points: Float64Array, n: number, d: number): Float64Array {
  const squared = new Float64Array(((n * (n - 1)) / 2) * d);
  let at = 0;
  for (let i = 1; i < n; i++) {
    for (let j = 0; j < i; j++) {
      for (let k = 0; k < d; k++) {
        const delta = points[i * d + k]! - points[j * d + k]!;
        squared[at++] = delta * delta;
      }
    }
  }
  return squared;
}

/** The kernel matrix's Cholesky factor; adds jitter until it factorizes. */
function factorize(squared: Float64Array, n: number, d: number, lengthscales: ArrayLike<number>, signal: number, noise: number): { factor: Float64Array; kernel: Float64Array; decay: Float64Array; radius: Float64Array } {
  const kernel = new Float64Array(n * n);
  const decay = new Float64Array((n * (n - 1)) / 2);
  const radius = new Float64Array((n * (n - 1)) / 2);
  const inverseSquares = Array.from(lengthscales, (l) => 1 / (l * l));
  let at = 0;
  let pair = 0;
  for (let i = 1; i < n; i++) {
    for (let j = 0; j < i; j++) {
      let r2 = 0;
      for (let k = 0; k < d; k++) r2 += squared[at++]! * inverseSquares[k]!;
      const r = Math.sqrt(r2);
      const e = Math.exp(-SQRT5 * r);
      const value = signal * (1 + SQRT5 * r + (5 / 3) * r2) * e;
      kernel[i * n + j] = value;
      kernel[j * n + i] = value;
      decay[pair] = e;
      radius[pair] = r;
      pair++;
    }
  }
  for (let jitter = 1e-9; ; jitter *= 10) {
    for (let i = 0; i < n; i++) kernel[i * n + i] = signal + noise + jitter * signal;
    const factor = cholesky(kernel, n);
    if (factor) return { factor, kernel, decay, radius };
    if (jitter > 1) throw new RangeError('the kernel matrix is not positive definite even with jitter');
  }
}

/** -(log marginal likelihood + log prior) and its gradient in the log hyperparameters. */
export function negativeLogPosterior(theta: Float64Array, squared: Float64Array, y: Float64Array, n: number, d: number, priors: GpPriors): { value: number; gradient: Float64Array } {
  const lengthscales = theta.slice(0, d).map(Math.exp);
  const signal = Math.exp(theta[d]!);
  const noise = Math.exp(theta[d + 1]!);
  const { factor, decay, radius } = factorize(squared, n, d, lengthscales, signal, noise);
  const alpha = solveUpperTransposed(factor, n, solveLower(factor, n, y));
  let fit = 0;
  let logDet = 0;
  for (let i = 0; i < n; i++) {
    fit += y[i]! * alpha[i]!;
    logDet += Math.log(factor[i * n + i]!);
  }
  const logLikelihood = -0.5 * fit - logDet - 0.5 * n * LOG_2PI;

  // d logML / d theta = 1/2 tr((alpha alphaᵀ - K⁻¹) dK/dtheta).
  const inverse = inverseFromCholesky(factor, n);
  const gradient = new Float64Array(d + 2);
  const inverseSquares = Array.from(lengthscales, (l) => 1 / (l * l));
  let at = 0;
  let pair = 0;
  for (let i = 1; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const w = alpha[i]! * alpha[j]! - inverse[i * n + j]!;
      const r = radius[pair]!;
      const e = decay[pair]!;
      pair++;
      // Off-diagonal pairs count twice in the trace; the 1/2 cancels.
      gradient[d]! += w * signal * (1 + SQRT5 * r + (5 / 3) * r * r) * e;
      const common = w * signal * (5 / 3) * (1 + SQRT5 * r) * e;
      for (let k = 0; k < d; k++) gradient[k]! += common * squared[at++]! * inverseSquares[k]!;
    }
  }
  for (let i = 0; i < n; i++) {
    const w = alpha[i]! * alpha[i]! - inverse[i * n + i]!;
    gradient[d]! += 0.5 * w * signal;
    gradient[d + 1]! += 0.5 * w * noise;
  }

  let logPrior = 0;
  const prior = (index: number, { mean, sd }: { mean: number; sd: number }) => {
    const z = (theta[index]! - mean) / sd;
    logPrior -= 0.5 * z * z;
    gradient[index]! -= z / sd;
  };
  for (let k = 0; k < d; k++) prior(k, priors.lengthscale);
  prior(d, priors.signal);
  prior(d + 1, priors.noise);

  for (let k = 0; k < d + 2; k++) gradient[k] = -gradient[k]!;
  return { value: -(logLikelihood + logPrior), gradient };
}
