import type { Acceptance, AcceptanceDecision, AcceptanceInput } from '../core/acceptance.ts';
import { improvement, isStrictlyBetter } from '../core/trial.ts';

/**
 * autoresearch's rule: keep when strictly better than the incumbent.
 *
 * @example
 * strictAcceptance.decide({ goal: 'minimize', candidate: 1.2, incumbent: 1.3 }); // { keep: true, ... }
 */
export const strictAcceptance: Acceptance = {
  name: 'strict',
  decide({ goal, candidate, incumbent }: AcceptanceInput): AcceptanceDecision {
    const delta = improvement(candidate, incumbent, goal);
    return isStrictlyBetter(candidate, incumbent, goal)
      ? { keep: true, reason: `better than the best by ${formatDelta(delta)}` }
      : { keep: false, reason: delta === 0 ? 'equal to the best' : `worse than the best by ${formatDelta(-delta)}` };
  },
};

function formatDelta(value: number): string {
  return Number(value.toPrecision(4)).toString();
}
