import type { Random } from '../../core/random.ts';

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** log of the standard normal density at z. */
export function logNormalPdf(z: number): number {
  return -0.5 * z * z - LOG_SQRT_2PI;
}

/**
 * log erfc(x), accurate to about 1e-7 relative even where erfc underflows
 * (Chebyshev fit from Numerical Recipes' erfcc, kept in log form).
 */
function logErfc(x: number): number {
  if (x < 0) return Math.log(2 - Math.exp(logErfc(-x)));
  const t = 1 / (1 + 0.5 * x);
  const poly =
    -1.26551223 +
    t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  return Math.log(t) - x * x + poly;
}

/** log Φ(z), the standard normal CDF, stable far into the lower tail. */
export function logNormalCdf(z: number): number {
  return Math.log(0.5) + logErfc(-z / Math.SQRT2);
}

/**
 * log(Φ(b) - Φ(a)) for a < b: the mass of a standard normal between a and b,
 * computed in whichever tail keeps it precise.
 *
 * @example
 * Math.exp(logNormalMass(-1, 1)); // ≈ 0.6827
 */
export function logNormalMass(a: number, b: number): number {
  if (!(a < b)) return Number.NEGATIVE_INFINITY;
  // Mirror into the lower half, where Φ is small and its log is exact.
  if (a > 0) [a, b] = [-b, -a];
  const width = b - a;
  // Narrow intervals: the CDF difference cancels; the midpoint rule with its
  // second-order correction is accurate to O(width^4).
  if (width < 1e-3 && Number.isFinite(a)) {
    const mid = 0.5 * (a + b);
    return logNormalPdf(mid) + Math.log(width) + Math.log1p((width * width * (mid * mid - 1)) / 24);
  }
  const upper = logNormalCdf(b);
  const lower = a === Number.NEGATIVE_INFINITY ? Number.NEGATIVE_INFINITY : logNormalCdf(a);
  return upper + Math.log1p(-Math.exp(lower - upper));
}

/**
 * One draw from N(mu, sigma) truncated to [low, high] by rejection. Callers
 * keep mu inside [low, high] and sigma <= high - low, so at least a third of
 * the mass lies inside and rejection stays cheap; the clamp after many
 * misses only guards against a broken generator.
 */
export function sampleTruncatedNormal(rng: Random, mu: number, sigma: number, low: number, high: number): number {
  for (let attempt = 0; attempt < 100; attempt++) {
    const x = rng.normal(mu, sigma);
    if (x >= low && x <= high) return x;
  }
  return Math.min(high, Math.max(low, mu));
}

/** log(Σ exp(values)) without overflow; -Infinity for an empty list. */
export function logSumExp(values: readonly number[]): number {
  let max = Number.NEGATIVE_INFINITY;
  for (const value of values) if (value > max) max = value;
  if (max === Number.NEGATIVE_INFINITY) return max;
  let sum = 0;
  for (const value of values) sum += Math.exp(value - max);
  return max + Math.log(sum);
}
