/** Run-to-run noise pooled over every commit measured more than once. */
export interface NoiseEstimate {
  /** Pooled standard deviation of one run's metric; 0 when every repeat agreed exactly. */
  sd: number;
  /** Degrees of freedom: Σ (runs of a commit − 1). 0 means no commit was measured twice. */
  df: number;
}

/**
 * Pool the within-commit variance of several groups of repeated runs (one
 * group per commit). Each group contributes its own spread around its own
 * mean, so real differences between commits never inflate the noise.
 *
 * @example
 * pooledNoise([[1.0, 1.2, 1.1], [0.9, 0.95]]); // { sd: ≈0.088, df: 3 }
 */
export function pooledNoise(groups: readonly (readonly number[])[]): NoiseEstimate {
  let sumOfSquares = 0;
  let df = 0;
  for (const group of groups) {
    if (group.length < 2) continue;
    const center = mean(group);
    for (const value of group) sumOfSquares += (value - center) ** 2;
    df += group.length - 1;
  }
  return { sd: df === 0 ? 0 : Math.sqrt(sumOfSquares / df), df };
}

/** Arithmetic mean (NaN for an empty list). */
export function mean(values: readonly number[]): number {
  let total = 0;
  for (const value of values) total += value;
  return total / values.length;
}
