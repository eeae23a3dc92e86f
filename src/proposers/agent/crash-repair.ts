import type { TrialSummary } from '../../core/proposer.ts';

/** Lines that mean "the program threw": a stack trace or an uncaught error, in the common languages. */
const STACK_TRACE = [
  /Traceback \(most recent call last\)/, // Python
  /^\s+at .+[(\s].*:\d+:\d+\)?\s*$/m, // Node / JavaScript
  /^\s*(\w+\.)*\w*(Error|Exception)(: |$)/m, // Python / JS / Java error lines
  /^Uncaught \w+/m,
  /panicked at/, // Rust
  /^panic: /m, // Go
  /^Exception in thread /m, // Java
];

/** Failures a code fix cannot address, or should not: memory, the OS killer, the budget. */
const NOT_A_BUG = [/out of memory/i, /OutOfMemoryError/, /\bMemoryError\b/, /^Killed\s*$/m, /CUDA error: out of memory/i];

/**
 * Whether a crashed trial's log looks like a bug in the change (a stack trace)
 * rather than a resource limit; only such crashes are worth a fix.
 *
 * @example
 * looksLikeCodeBug('Traceback (most recent call last):\n  File "train.py", line 3\nNameError: name "x" is not defined'); // true
 */
export function looksLikeCodeBug(logTail: string | null): boolean {
  if (!logTail) return false;
  if (NOT_A_BUG.some((pattern) => pattern.test(logTail))) return false;
  return STACK_TRACE.some((pattern) => pattern.test(logTail));
}

/** The idea's first trial: follow `relatedTrialId` links back (fixes and re-runs point at their origin). */
export function rootOf(trial: TrialSummary, byId: ReadonlyMap<number, TrialSummary>): TrialSummary {
  let current = trial;
  const seen = new Set<number>();
  while (current.relatedTrialId !== null && !seen.has(current.id)) {
    seen.add(current.id);
    const parent = byId.get(current.relatedTrialId);
    if (!parent) break;
    current = parent;
  }
  return current;
}

/**
 * Which crashed trial to repair next, if any, given every trial so far: the
 * latest finished trial (not counting interrupted ones) when it is a proposed
 * candidate that crashed with a stack trace, its idea has had fewer than
 * `maxFixAttempts` fixes, and none is in flight. Each
 * fix starts from the latest crashed attempt (so fixes build on each other)
 * and links to the idea's first trial.
 *
 * @example
 * const repair = chooseRepair(history, 2); // { from: crashedTrial, relatedTrialId: 7 } | undefined
 */
export function chooseRepair(trials: readonly TrialSummary[], maxFixAttempts: number): { from: TrialSummary; relatedTrialId: number } | undefined {
  if (maxFixAttempts <= 0) return undefined;
  const history = trials.filter((trial) => trial.status !== 'queued' && trial.status !== 'running');
  const latest = history.findLast((trial) => trial.status !== 'interrupted');
  if (!latest || latest.status !== 'crash') return undefined;
  // The baseline and re-runs of it have no change of their own to fix.
  if (latest.candidateCommit === null || latest.candidateCommit === latest.parentCommit) return undefined;
  if (!looksLikeCodeBug(latest.logTail)) return undefined;
  const byId = new Map(trials.map((trial) => [trial.id, trial]));
  const root = rootOf(latest, byId);
  const chain = trials.filter((trial) => trial.id !== root.id && trial.status !== 'interrupted' && rootOf(trial, byId).id === root.id);
  // With parallel slots a fix may already be under way: one at a time per idea.
  if (chain.some((trial) => trial.status === 'queued' || trial.status === 'running')) return undefined;
  if (chain.length >= maxFixAttempts) return undefined;
  return { from: latest, relatedTrialId: root.id };
}
