import { NOTIFY_TOPICS, type RawOversight } from './oversight-schema.ts';

export type NotifyTopic = (typeof NOTIFY_TOPICS)[number];

/** Conditions that pause a study for review; absent ones are off. */
export interface PauseOnConfig {
  newBest: boolean;
  crashStreak?: number;
  spendUsd?: number;
  holdoutGap?: number;
  diffLines?: number;
}

/** One place notifications go. */
export type NotifyTarget =
  | { kind: 'webhook'; urlEnv: string; on: readonly NotifyTopic[]; label: string }
  | { kind: 'command'; command: string; on: readonly NotifyTopic[]; label: string };

/** The `oversight:` section, normalized. */
export interface OversightConfig {
  pauseOn: PauseOnConfig;
  notify: NotifyTarget[];
}

/** No pauses, no notifications: what a file without `oversight:` means. */
export const NO_OVERSIGHT: OversightConfig = { pauseOn: { newBest: false }, notify: [] };

/**
 * Normalize `oversight:`. A target's label (`webhook STRATA_WEBHOOK_URL`,
 * `command #2`) is what the ledger and logs name it by: never the URL.
 *
 * @example
 * normalizeOversight({ pause_on: { crash_streak: 3 } }).pauseOn.crashStreak; // 3
 */
export function normalizeOversight(raw: RawOversight | undefined): OversightConfig {
  if (!raw) return NO_OVERSIGHT;
  const pause = raw.pause_on ?? {};
  return {
    pauseOn: {
      newBest: pause.new_best ?? false,
      ...(pause.crash_streak !== undefined ? { crashStreak: pause.crash_streak } : {}),
      ...(pause.spend_usd !== undefined ? { spendUsd: pause.spend_usd } : {}),
      ...(pause.holdout_gap !== undefined ? { holdoutGap: pause.holdout_gap } : {}),
      ...(pause.diff_lines !== undefined ? { diffLines: pause.diff_lines } : {}),
    },
    notify: (raw.notify ?? []).map((target, index): NotifyTarget => {
      const on = target.on ?? NOTIFY_TOPICS;
      return 'webhook' in target
        ? { kind: 'webhook', urlEnv: target.webhook.url_env, on, label: `webhook ${target.webhook.url_env}` }
        : { kind: 'command', command: target.command, on, label: `command #${index + 1}` };
    }),
  };
}

/** A `pause_on` condition, by its name in strata.yaml. */
export type PauseCondition = 'new_best' | 'crash_streak' | 'spend_usd' | 'holdout_gap' | 'diff_lines';

/**
 * The `pause_on` conditions an evolve study cannot watch, each with why: a
 * setting that would do nothing must say so, not be ignored. `hasTest`: the
 * study has a held-out test split (`evolve.data.test`).
 *
 * @example
 * evolvePauseOnProblems({ newBest: false, diffLines: 200 }, false); // [{ condition: 'diff_lines', reason: '…', message: '…' }]
 */
export function evolvePauseOnProblems(pauseOn: PauseOnConfig, hasTest: boolean): { condition: PauseCondition; reason: string; message: string }[] {
  const problems: { condition: PauseCondition; reason: string; message: string }[] = [];
  if (pauseOn.diffLines !== undefined) {
    const reason = 'an evolve study keeps rewritten texts, not code changes';
    problems.push({ condition: 'diff_lines', reason, message: `${reason}: diff_lines has no meaning for it (it applies to research studies); remove it` });
  }
  if (pauseOn.holdoutGap !== undefined && !hasTest) {
    problems.push({ condition: 'holdout_gap', reason: 'it has no held-out test split (evolve.data.test)', message: 'needs a held-out split to score each new best on: set evolve.data.test, or remove holdout_gap' });
  }
  return problems;
}
