import type { MetricGoal } from './trial.ts';

export interface AcceptanceInput {
  goal: MetricGoal;
  candidate: number;
  incumbent: number;
}

export interface AcceptanceDecision {
  keep: boolean;
  reason: string;
}

/**
 * Decides keep or discard for a finished trial with a valid metric.
 * Strict today; the noise-aware rule plugs in behind the same seam.
 */
export interface Acceptance {
  readonly name: string;
  decide(input: AcceptanceInput): AcceptanceDecision;
}
