import type { MetricGoal } from '../core/trial.ts';
import { formatNumber } from './format-number.ts';

/** `research.metric.valid_range` and `research.metric.max_improvement_factor`. */
export interface SanityLimits {
  /** Inclusive bounds a real metric value can take (bits per byte ≥ 0, accuracy in [0, 1]). */
  validRange?: readonly [number, number];
  /**
   * A value that improves on the incumbent by more than this factor in one
   * step (minimize: below incumbent / factor; maximize: above incumbent ×
   * factor) is suspect. Only checked when the incumbent is positive.
   */
  maxImprovementFactor?: number;
}

/** Why a measured value cannot be trusted on its own. */
export type SanityFinding =
  | { kind: 'out_of_range'; reason: string }
  | { kind: 'jump'; reason: string };

/**
 * Check one measured value. A value outside `validRange` is not a real
 * result; a jump beyond `maxImprovementFactor` may be real (a bug fixed) but
 * must be confirmed by a rerun before it can be kept.
 *
 * @example
 * checkSanity(-0.2, { goal: 'minimize', incumbent: 2.4, limits: { validRange: [0, 8] } });
 * // { kind: 'out_of_range', reason: 'metric -0.2 is outside valid_range [0, 8]' }
 */
export function checkSanity(value: number, context: { goal: MetricGoal; incumbent: number | undefined; limits: SanityLimits }): SanityFinding | null {
  const { validRange, maxImprovementFactor } = context.limits;
  if (validRange && (value < validRange[0] || value > validRange[1])) {
    return { kind: 'out_of_range', reason: `metric ${formatNumber(value)} is outside valid_range [${formatNumber(validRange[0])}, ${formatNumber(validRange[1])}]` };
  }
  const incumbent = context.incumbent;
  if (maxImprovementFactor !== undefined && incumbent !== undefined && incumbent > 0) {
    const jump = context.goal === 'minimize' ? value < incumbent / maxImprovementFactor : value > incumbent * maxImprovementFactor;
    if (jump) {
      return {
        kind: 'jump',
        reason: `metric ${formatNumber(value)} improves on the best (${formatNumber(incumbent)}) by more than max_improvement_factor ${formatNumber(maxImprovementFactor)} in one step`,
      };
    }
  }
  return null;
}
