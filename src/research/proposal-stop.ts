import { BudgetExhaustedError } from '../core/errors.ts';
import { LlmCallError, LlmUnavailableError } from '../llm/errors.ts';
import { SandboxUnavailableError } from '../sandbox/sandbox-unavailable-error.ts';

/** How and why the loop should stop after a proposal failed. */
export interface StudyStop {
  state: 'done' | 'paused';
  reason: string;
}

/**
 * The proposal errors that end a study instead of costing one trial: the USD
 * cap is reached (done: the budget is spent, as with max_trials), the model
 * stays unavailable after every retry, or the provider refuses the key
 * (paused: nothing will work until someone acts, so do not burn trials).
 * Anything else fails one proposal and the loop goes on.
 *
 * @example
 * const stop = studyStopFor(error); // { state: 'done', reason: 'USD budget reached: …' }
 */
export function studyStopFor(error: unknown): StudyStop | undefined {
  if (error instanceof BudgetExhaustedError) return { state: 'done', reason: error.message };
  if (error instanceof LlmUnavailableError) return { state: 'paused', reason: error.message };
  // The agent's sandbox could not be set up: every proposal would fail the same way until the machine is fixed.
  if (error instanceof SandboxUnavailableError) return { state: 'paused', reason: error.message };
  if (error instanceof LlmCallError && (error.status === 401 || error.status === 403)) return { state: 'paused', reason: `${error.message}; fix the key, then run again to resume` };
  return undefined;
}
