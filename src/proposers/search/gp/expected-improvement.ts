import { logNormalCdf, logNormalPdf } from '../truncated-normal.ts';

/**
 * log h(z) with h(z) = z Φ(z) + φ(z), the expected improvement of a unit
 * normal over a threshold z standard deviations above its mean. Stable far
 * into the lower tail, where EI underflows but its log still ranks
 * candidates (the "LogEI" of Ament et al., 2023).
 */
export function logH(z: number): number {
  // Direct form down to z = -20 (the cancellation in z Φ + φ costs at most ~400x relative precision there).
  if (z > -20) {
    const h = z * Math.exp(logNormalCdf(z)) + Math.exp(logNormalPdf(z));
    return Math.log(Math.max(h, Number.MIN_VALUE));
  }
  // Asymptotic series of the Mills ratio: h(z) = φ(z) / z² (1 - 3/z² + 15/z⁴ - 105/z⁶ + 945/z⁸ ...).
  const inverse = 1 / (z * z);
  const series = 1 - inverse * (3 - inverse * (15 - inverse * (105 - 945 * inverse)));
  return logNormalPdf(z) + Math.log(inverse) + Math.log(series);
}

/**
 * log of the expected improvement of N(mean, variance) below `best`
 * (minimization), and its gradient given the gradients of mean and variance.
 *
 * @example
 * logExpectedImprovement(0, 1, 0).value; // log(φ(0)) ≈ -0.919
 */
export function logExpectedImprovement(
  mean: number,
  variance: number,
  best: number,
  meanGradient?: Float64Array,
  varianceGradient?: Float64Array,
): { value: number; gradient?: Float64Array } {
  const sd = Math.sqrt(variance);
  const z = (best - mean) / sd;
  const logh = logH(z);
  const value = Math.log(sd) + logh;
  if (!meanGradient || !varianceGradient) return { value };
  // d/dx [log sd + log h(z)], with h'(z) = Φ(z) and dz/dx = -(mean' + z sd') / sd.
  const ratio = Math.exp(logNormalCdf(z) - logh);
  const gradient = new Float64Array(meanGradient.length);
  for (let j = 0; j < gradient.length; j++) {
    const sdGradient = varianceGradient[j]! / (2 * sd);
    gradient[j] = sdGradient / sd - (ratio * (meanGradient[j]! + z * sdGradient)) / sd;
  }
  return { value, gradient };
}
