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
