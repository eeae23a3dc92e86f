import type { Ledger } from '../ledger/ledger.ts';

/** Share of a budget after which the one budget_warning is sent. */
export const BUDGET_WARNING_SHARE = 0.8;

/**
 * The budget nearest its end, when it is past BUDGET_WARNING_SHARE and not
 * spent yet, and no budget_warning was sent for the study before (read from
 * the ledger, so a resumed study does not warn twice). `shares` are the
 * budgets' spent fractions by name (0 for a budget that is not set).
 *
 * @example
 * const due = budgetWarningDue(ledger, studyId, [['max_trials', 0.85], ['llm.max_usd', 0.1]]);
 * // { budget: 'max_trials', share: 0.85 }
 */
export function budgetWarningDue(ledger: Ledger, studyId: number, shares: readonly [string, number][]): { budget: string; share: number } | undefined {
  if (shares.length === 0) return undefined;
  const [budget, share] = shares.reduce((most, next) => (next[1] > most[1] ? next : most));
  if (share < BUDGET_WARNING_SHARE || share >= 1) return undefined;
  const sent = ledger.oversight.records(studyId, 'oversight.notification').some((record) => record.payload.topic === 'budget_warning');
  return sent ? undefined : { budget, share };
}
