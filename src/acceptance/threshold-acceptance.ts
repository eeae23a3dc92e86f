import { runsOf, type Acceptance, type AcceptanceDecision, type AcceptanceInput } from '../core/acceptance.ts';
import { improvement } from '../core/trial.ts';
import { formatNumber } from './format-number.ts';
import { mean } from './noise-estimate.ts';

/**
 * Keep when the candidate's mean beats the incumbent's by more than
 * `minDelta` metric units. No reruns and no noise model: `minDelta` is a
 * margin the user picks from experience.
 *
 * @example
 * thresholdAcceptance(0.01).decide({ goal: 'minimize', candidate: 1.295, incumbent: 1.3 }).keep; // false: 0.005 < 0.01
 */
export function thresholdAcceptance(minDelta: number): Acceptance {
  return {
    name: 'threshold',
    baselineRuns: 1,
    decide: (input) => marginDecision('threshold', input, minDelta),
  };
}

/** Keep when mean(candidate) improves on mean(incumbent) by more than `minDelta`; shared by strict (minDelta 0) and threshold. */
export function marginDecision(rule: string, input: AcceptanceInput, minDelta: number): AcceptanceDecision {
  const candidate = runsOf(input.candidate);
  const incumbent = runsOf(input.incumbent);
  const delta = improvement(mean(candidate), mean(incumbent), input.goal);
  const evidence = {
    rule,
    candidate: { runs: candidate.length, mean: mean(candidate) },
    incumbent: { runs: incumbent.length, mean: mean(incumbent) },
    improvement: delta,
  };
  if (delta > minDelta) return { keep: true, reason: `better than the best by ${formatNumber(delta)}`, evidence };
  if (delta > 0) return { keep: false, reason: `better than the best by only ${formatNumber(delta)}, not more than min_delta ${formatNumber(minDelta)}`, evidence };
  return { keep: false, reason: delta === 0 ? 'equal to the best' : `worse than the best by ${formatNumber(-delta)}`, evidence };
}
