import { z } from 'zod';

/** What a notification can be about. */
export const NOTIFY_TOPICS = ['new_best', 'paused', 'done', 'failed', 'budget_warning'] as const;

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name');
const topics = z.array(z.enum(NOTIFY_TOPICS)).min(1).describe(`which events to send: ${NOTIFY_TOPICS.join(', ')}`);

const webhookTarget = z.strictObject({
  webhook: z
    .strictObject({
      // The URL is a secret (Slack and Discord URLs carry their token): it is read from the environment, never written in the file.
      url_env: envName.describe('environment variable holding the webhook URL (a secret: never written to logs or the ledger)'),
    })
    .describe('JSON POST with a Slack/Discord/ntfy-compatible `text` field'),
  on: topics.optional(),
});

const commandTarget = z.strictObject({
  command: z.string().min(1).describe('run through the shell with the event as JSON on stdin, e.g. "notify-send Strata"'),
  on: topics.optional(),
});

/** `oversight:`: when a study pauses itself for review, and who hears about what happens. */
export const oversightSchema = z
  .strictObject({
    pause_on: z
      .strictObject({
        new_best: z.boolean().optional().describe('pause after every keep, for review (default false)'),
        crash_streak: z.number().int().min(1).optional().describe('pause after this many crashed, timed-out or invalid trials in a row'),
        spend_usd: z.number().positive().optional().describe('pause each time LLM spend crosses a multiple of this many USD'),
        holdout_gap: z.number().min(0).optional().describe('pause when a new best improved validation but its holdout got worse than the holdout of the best it replaced by more than this'),
        diff_lines: z.number().int().min(1).optional().describe('pause when a kept change adds and removes more lines than this'),
      })
      .optional()
      .describe('conditions that pause the study after the trial that met them (resume with strata resume)'),
    notify: z.array(z.union([webhookTarget, commandTarget])).optional().describe('where to send notifications; delivered with retries, recorded in the ledger, never blocking the loop'),
  })
  .describe('human oversight: pause on what matters, and hear about it');

export type RawOversight = z.infer<typeof oversightSchema>;
