import type { Acceptance, AcceptanceDecision, AcceptanceInput } from '../core/acceptance.ts';
import { marginDecision } from './threshold-acceptance.ts';

/**
 * autoresearch's rule: keep when strictly better than the incumbent (means
 * when a side was measured more than once). One run each and no noise model,
 * so a change that does nothing is kept about half the time (see
 * bench/README-noise.md).
 *
 * @example
 * strictAcceptance.decide({ goal: 'minimize', candidate: 1.2, incumbent: 1.3 }); // { keep: true, ... }
 */
export const strictAcceptance: Acceptance = {
  name: 'strict',
  baselineRuns: 1,
  decide(input: AcceptanceInput): AcceptanceDecision {
    return marginDecision('strict', input, 0);
  },
};
