import { z } from 'zod';
import { parseDuration } from '../duration.ts';

/** A duration as written in config: `20s`, `5m`, `1h30m`, or a number of seconds. */
export const durationSchema = z
  .union([z.string(), z.number()])
  .refine((value) => parseDuration(value) !== null, { message: 'expected a duration like 300s or 5m' })
  .describe('a duration like 300s, 5m or 1h30m (a bare number means seconds)');
