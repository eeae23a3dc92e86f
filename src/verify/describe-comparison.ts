import { formatNumber, formatPValue } from '../acceptance/format-number.ts';
import type { Comparison } from './welch-comparison.ts';

/**
 * A comparison in words, naming its test: "+0.3 [0.28, 0.32] (95% Welch t, df 7.8, p<0.001)".
 *
 * @example
 * describeComparison(welchComparison(best, baseline, 'minimize'));
 */
export function describeComparison(comparison: Comparison | null): string {
  if (comparison === null) return 'not enough runs (each side needs 2)';
  const [low, high] = comparison.interval;
  const df = Number.isFinite(comparison.df) ? comparison.df.toFixed(1) : '∞';
  return `${signed(comparison.improvement)} [${formatNumber(low)}, ${formatNumber(high)}] (${Math.round(comparison.confidence * 100)}% Welch t, df ${df}, ${formatPValue(comparison.pValue)})`;
}

/** A number with its sign: +0.3, -0.1. */
export function signed(value: number): string {
  return `${value >= 0 ? '+' : ''}${formatNumber(value)}`;
}
