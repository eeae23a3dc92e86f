/**
 * Welch's t test for the difference of two means with unequal variances:
 * how `strata verify` compares two commits' runs. Each commit's runs are a
 * sample of its own; nothing is pooled across commits, so a change that makes
 * the metric noisier does not distort the others' intervals.
 */
import { improvement, type MetricGoal } from '../core/trial.ts';
import { mean } from '../acceptance/noise-estimate.ts';
import { studentTCdf, studentTQuantile } from '../acceptance/student-t.ts';

/** The improvement of `treated` over `reference` (positive = better), with its interval and test. */
export interface Comparison {
  improvement: number;
  /** Two-sided interval at `confidence` (Welch t with `df` degrees of freedom). */
  interval: [number, number];
  confidence: number;
  /** Welch–Satterthwaite degrees of freedom (Infinity when both samples agree exactly). */
  df: number;
  statistic: number;
  /** Two-sided p-value of "no difference". */
  pValue: number;
  runs: [number, number];
}

/**
 * Compare two samples of one metric; null when either has fewer than two runs (no variance to estimate).
 *
 * @example
 * welchComparison([1.0, 1.02, 0.98], [1.2, 1.21, 1.19], 'minimize'); // improvement ≈ 0.2, interval ≈ [0.16, 0.24]
 */
export function welchComparison(treated: readonly number[], reference: readonly number[], goal: MetricGoal, confidence = 0.95): Comparison | null {
  if (treated.length < 2 || reference.length < 2) return null;
  const delta = improvement(mean(treated), mean(reference), goal);
  const a = variance(treated) / treated.length;
  const b = variance(reference) / reference.length;
  const standardError = Math.sqrt(a + b);
  const runs: [number, number] = [treated.length, reference.length];
  if (standardError === 0) {
    // Identical repeats on both sides: the metric ignores the seed; any difference is exact.
    return { improvement: delta, interval: [delta, delta], confidence, df: Infinity, statistic: delta === 0 ? 0 : Math.sign(delta) * Infinity, pValue: delta === 0 ? 1 : 0, runs };
  }
  const df = (a + b) ** 2 / (a ** 2 / (treated.length - 1) + b ** 2 / (reference.length - 1));
  const statistic = delta / standardError;
  const half = studentTQuantile(1 - (1 - confidence) / 2, df) * standardError;
  const pValue = 2 * (1 - studentTCdf(Math.abs(statistic), df));
  return { improvement: delta, interval: [delta - half, delta + half], confidence, df, statistic, pValue, runs };
}

/** Unbiased sample variance. */
function variance(values: readonly number[]): number {
  const center = mean(values);
  let sum = 0;
  for (const value of values) sum += (value - center) ** 2;
  return sum / (values.length - 1);
}
