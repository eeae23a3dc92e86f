import { z } from 'zod';
import { MAX_DURATION_MS, parseDuration } from '../duration.ts';

/** How the limit on durations reads in config errors. */
export const MAX_DURATION_TEXT = '596h (about 24.8 days, the longest a Node.js timer can wait)';

/** A duration as written in config: `20s`, `5m`, `1h30m`, or a number of seconds, at most MAX_DURATION_MS. */
export const durationSchema = z
  .union([z.string(), z.number()])
  .refine((value) => parseDuration(value) !== null, { message: 'expected a duration like 300s or 5m' })
  .refine((value) => (parseDuration(value) ?? 0) <= MAX_DURATION_MS, { message: `must be at most ${MAX_DURATION_TEXT}` })
  .describe('a duration like 300s, 5m or 1h30m (a bare number means seconds)');
