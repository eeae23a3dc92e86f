import type { TrialRecord } from '../ledger/records.ts';
import type { StudySummary } from '../research/study-summary.ts';

/** Lines of a crashed trial's log shown to the reflector. */
const CRASH_LOG_LINES = 15;
/** Crashes whose logs are shown; the table still lists every one. */
const CRASH_LOGS = 4;

/**
 * The score of a research evaluation: the relative improvement of the best
 * metric over the study's own baseline (0.05 = 5% better), clamped to [0, 1].
 * A study without a measured baseline scores 0.
 *
 * @example
 * researchScore(summary); // { score: 0.046, relative: 0.046 }
 */
export function researchScore(summary: Pick<StudySummary, 'improvement' | 'baseline'>): { score: number; relative: number | null } {
  const baseline = summary.baseline?.metric;
  if (summary.improvement === null || baseline === null || baseline === undefined) return { score: 0, relative: null };
  const relative = baseline === 0 ? summary.improvement : summary.improvement / Math.abs(baseline);
  return { score: Math.min(1, Math.max(0, relative)), relative };
}

/** One line per trial: what was tried, its status, metric and delta, in the order it ran. */
export function trialTable(summary: StudySummary): string {
  const metric = summary.study.metric;
  const lines = [`trial | status | ${metric} | delta vs best | description`];
  for (const trial of summary.trials) {
    const delta = trial.delta === null ? '' : `${trial.delta > 0 ? '+' : ''}${round(trial.delta)}`;
    const reason = trial.status === 'keep' || trial.status === 'discard' || !trial.reason ? '' : ` (${trial.reason.slice(0, 160)})`;
    lines.push(`#${trial.seq} | ${trial.status}${trial.role === 'candidate' || trial.role === 'baseline' ? '' : ` [${trial.role}]`} | ${trial.metric === null ? '-' : round(trial.metric)} | ${delta} | ${trial.description.slice(0, 200)}${reason}`);
  }
  return lines.join('\n');
}

/**
 * Feedback for the reflection model: how the study went in one paragraph,
 * then the tails of crash logs (the reflector should see which instructions
 * led to broken experiments). The trial table goes beside it, in the trace.
 */
export function researchFeedback(input: { summary: StudySummary; trials: readonly TrialRecord[]; example: string; budgetS: number }): string {
  const { summary } = input;
  const { relative } = researchScore(summary);
  const goal = summary.study.goal === 'minimize' ? 'lower is better' : 'higher is better';
  const proposed = summary.trials.filter((trial) => trial.role !== 'baseline');
  const kept = proposed.filter((trial) => trial.status === 'keep').length;
  const failed = proposed.filter((trial) => trial.status === 'crash' || trial.status === 'timeout' || trial.status === 'invalid').length;
  const parts = [
    `A research agent following this program ran ${summary.trials.length} trials (${input.budgetS}s each) on ${input.example}; ${summary.study.metric}, ${goal}.`,
    summary.baseline?.metric == null
      ? `The baseline did not produce a metric (${summary.study.stop_reason ?? summary.study.state}).`
      : `Baseline ${round(summary.baseline.metric)}, best ${round(summary.best?.metric ?? summary.baseline.metric)}: ${relative === null ? 'no improvement' : `${(relative * 100).toFixed(2)}% ${relative > 0 ? 'better' : 'change'}`}.`,
    `${kept} of ${proposed.length} changes were kept, ${failed} crashed, timed out or were invalid.`,
  ];
  if (summary.study.state !== 'done' && summary.study.stop_reason) parts.push(`The study ended ${summary.study.state}: ${summary.study.stop_reason}.`);
  const crashes = input.trials.filter((trial) => (trial.status === 'crash' || trial.status === 'timeout' || trial.status === 'invalid') && trial.logTail);
  const logs = crashes.slice(-CRASH_LOGS).map((trial) => `Log of trial #${trial.seq} (${trial.status}: ${trial.description.slice(0, 120)}):\n${trial.logTail!.split('\n').slice(-CRASH_LOG_LINES).join('\n')}`);
  return [parts.join(' '), ...logs].join('\n\n');
}

function round(value: number): string {
  return Number(value.toPrecision(6)).toString();
}
