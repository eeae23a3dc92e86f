import type { PauseCondition, PauseOnConfig } from '../core/config/oversight-config.ts';
import { REPEAT_ROLES, type MetricGoal } from '../core/trial.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { TrialRecord } from '../ledger/records.ts';

/** A `pause_on` condition that was met, and by what. */
export interface PauseTrigger {
  condition: PauseCondition;
  detail: string;
  trialId: number | null;
  /** For spend_usd: the multiple crossed (each fires once). */
  step?: number;
}

/**
 * Watches finished trials for the `oversight.pause_on` conditions. Each
 * condition fires once for what met it: a keep, a streak (counted again from
 * zero after it fires), a multiple of spend (the multiples already crossed
 * are read from the ledger, so a resumed study does not fire them again).
 *
 * @example
 * const watch = new PauseOnWatch(ledger, study.id, { newBest: false, crashStreak: 3 }, 'minimize');
 * const trigger = watch.afterTrial(finished); // { condition: 'crash_streak', detail: '3 trials in a row crashed…' }
 */
export class PauseOnWatch {
  private streak = 0;
  private readonly ledger: Ledger;
  private readonly studyId: number;
  private readonly config: PauseOnConfig;
  private readonly goal: MetricGoal;

  constructor(ledger: Ledger, studyId: number, config: PauseOnConfig, goal: MetricGoal) {
    this.ledger = ledger;
    this.studyId = studyId;
    this.config = config;
    this.goal = goal;
  }

  /** The first condition `finished` meets, recorded in the ledger; undefined when none. */
  afterTrial(finished: TrialRecord): PauseTrigger | undefined {
    const trigger = this.check(finished);
    if (trigger) {
      this.ledger.record(
        'oversight.pause_triggered',
        { studyId: this.studyId, condition: trigger.condition, trialId: trigger.trialId, detail: trigger.detail, step: trigger.step ?? null },
        { studyId: this.studyId, trialId: trigger.trialId },
      );
    }
    return trigger;
  }

  private check(trial: TrialRecord): PauseTrigger | undefined {
    const { config } = this;
    const counted = !REPEAT_ROLES.includes(trial.role) && trial.status !== 'interrupted';
    if (counted) {
      const failed = trial.status === 'crash' || trial.status === 'timeout' || (trial.status === 'invalid' && trial.cause !== 'proposal-failed' && trial.cause !== 'duplicate');
      this.streak = failed ? this.streak + 1 : trial.status === 'invalid' ? this.streak : 0;
    }
    if (config.crashStreak !== undefined && this.streak >= config.crashStreak) {
      const streak = this.streak;
      this.streak = 0;
      return { condition: 'crash_streak', trialId: trial.id, detail: `${streak} trials in a row crashed, timed out or were invalid (the last #${trial.seq}: ${trial.statusReason ?? trial.status})` };
    }
    const kept = trial.status === 'keep' && trial.role !== 'baseline';
    if (kept && config.diffLines !== undefined) {
      const lines = changedLines(trial.diff ?? '');
      if (lines > config.diffLines) return { condition: 'diff_lines', trialId: trial.id, detail: `kept #${trial.seq} changes ${lines} lines (more than ${config.diffLines})` };
    }
    if (kept && config.holdoutGap !== undefined && trial.metric !== null) {
      const trigger = this.holdoutGap(trial, config.holdoutGap);
      if (trigger) return trigger;
    }
    if (kept && config.newBest) return { condition: 'new_best', trialId: trial.id, detail: `#${trial.seq} is the new best (${trial.metric}): ${trial.description}` };
    if (config.spendUsd !== undefined) return spendTrigger(this.ledger, this.studyId, config.spendUsd);
    return undefined;
  }

  /**
   * The overfitting alarm: a keep improved validation, but its holdout is
   * worse than the holdout of the best it replaced (the one measured last
   * before its own, of a keep not vetoed since) by more than `gap`. Not the
   * distance between a trial's holdout and its validation: two splits differ
   * by a level of their own, and a healthy study would trip that at each keep.
   */
  private holdoutGap(trial: TrialRecord, gap: number): PauseTrigger | undefined {
    const results = [...this.ledger.research.holdoutResults(this.studyId).values()].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.trialId - b.trialId);
    const own = results.find((result) => result.trialId === trial.id);
    if (own?.metric === null || own?.metric === undefined) return undefined;
    const before = results.slice(0, results.indexOf(own)).findLast((result) => result.metric !== null && this.ledger.trial(result.trialId).meta?.veto === undefined);
    if (before?.metric === null || before?.metric === undefined) return undefined;
    // Positive = the new best's holdout is worse than the previous best's.
    const worse = this.goal === 'minimize' ? own.metric - before.metric : before.metric - own.metric;
    if (worse <= gap) return undefined;
    const previous = this.ledger.trial(before.trialId);
    return {
      condition: 'holdout_gap',
      trialId: trial.id,
      detail: `new best #${trial.seq} improved validation (${trial.metric}) but its holdout got worse: ${own.metric} against ${before.metric} for #${previous.seq} (by ${round(worse)}, more than ${gap}): it may overfit the validation split`,
    };
  }
}

/**
 * spend_usd: the study's LLM spend crossed a multiple of `spendUsd` not
 * crossed before (the multiples already fired are read from the ledger, so a
 * resumed study does not fire them again). Shared by research and evolve.
 */
export function spendTrigger(ledger: Ledger, studyId: number, spendUsd: number): PauseTrigger | undefined {
  const spent = ledger.llm.spentUsd(studyId);
  const step = Math.floor(spent / spendUsd);
  const fired = ledger.oversight.records(studyId, 'oversight.pause_triggered').filter((record) => record.payload.condition === 'spend_usd');
  const last = Math.max(0, ...fired.map((record) => record.payload.step ?? 0));
  if (step <= last) return undefined;
  return { condition: 'spend_usd', trialId: null, step, detail: `LLM spend reached $${spent.toFixed(2)} (crossed $${(step * spendUsd).toFixed(2)})` };
}

/** Lines a unified diff adds or removes (not its file headers). */
export function changedLines(diff: string): number {
  let count = 0;
  for (const line of diff.split('\n')) {
    if ((line.startsWith('+') && !line.startsWith('+++')) || (line.startsWith('-') && !line.startsWith('---'))) count++;
  }
  return count;
}

const round = (value: number) => Math.round(value * 1e6) / 1e6;
