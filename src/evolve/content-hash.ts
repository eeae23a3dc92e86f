import { createHash } from 'node:crypto';
import type { Candidate } from './types.ts';

/**
 * A stable hash of a candidate's components (order-independent), the
 * candidate's identity in the evaluation cache.
 *
 * @example
 * candidateHash({ system_prompt: 'Classify the ticket.' }); // '3f1a…' (16 hex)
 */
export function candidateHash(candidate: Candidate): string {
  const sorted = Object.keys(candidate)
    .sort()
    .map((key) => [key, candidate[key]]);
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex').slice(0, 16);
}

/** A short hash of any JSON-able value. */
export function jsonHash(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);
}
