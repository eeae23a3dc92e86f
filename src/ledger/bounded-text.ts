import { createHash } from 'node:crypto';

/**
 * Sizes texts may reach in the ledger, in characters. A reply of 10 MB from a
 * model, stored whole in every event and row that carries it, grew one ledger
 * to 342 MB in 18 iterations; past these sizes a text keeps its start (or, for
 * logs, its end) and a marker with its full length and sha256, which is enough
 * to recognise the text again and says nothing was silently lost.
 */
export const TEXT_LIMITS = {
  /** A model's reply, or one part of a request (system text, prompt, messages): what the dashboard shows of a call. */
  modelText: 20_000,
  /** A whole model request as JSON (a safety net over its bounded parts). */
  request: 200_000,
  /** The diff of a proposal. */
  diff: 200_000,
  /** The tail of a trial's log. */
  logTail: 16_000,
  /** Why something happened: a status reason, an error, a decision's detail. */
  reason: 4_000,
  /** A trial's description. */
  description: 4_000,
  /** An evaluator's feedback on one example. */
  feedback: 64_000,
  /** An evaluator's trace (as JSON). */
  trace: 64_000,
} as const;

/**
 * `text` if it fits in `limit` characters, else its first (or, with
 * `keep: 'tail'`, last) characters and `…[truncated: N chars, sha256 …]`,
 * the whole result within `limit`.
 *
 * @example
 * boundText('x'.repeat(10_485_760), 20_000); // 'xxx…x…[truncated: 10485760 chars, sha256 5c1f…]'
 */
export function boundText(text: string, limit: number, keep: 'head' | 'tail' = 'head'): string {
  if (text.length <= limit) return text;
  const marker = `…[truncated: ${text.length} chars, sha256 ${createHash('sha256').update(text).digest('hex')}]`;
  const room = Math.max(0, limit - marker.length);
  return keep === 'head' ? text.slice(0, room) + marker : marker + text.slice(text.length - room);
}

/** `boundText` for a nullable text. */
export function boundNullable(text: string | null, limit: number, keep: 'head' | 'tail' = 'head'): string | null {
  return text === null ? null : boundText(text, limit, keep);
}

/**
 * A JSON value kept whole when its JSON fits in `limit`, else replaced by the
 * bounded JSON text (a string), so readers still see what it began with.
 */
export function boundJson(value: unknown, limit: number): unknown {
  if (value === null || value === undefined) return value;
  const json = JSON.stringify(value);
  return json === undefined || json.length <= limit ? value : boundText(json, limit);
}
