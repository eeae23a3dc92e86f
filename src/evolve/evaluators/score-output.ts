import type { EvolveMetric } from '../../core/config/evolve-config.ts';
import type { DatasetExample } from './jsonl-dataset.ts';

/** A deterministic metric's verdict on one output. */
export interface Verdict {
  score: number;
  feedback: string;
}

type DeterministicMetric = Extract<EvolveMetric, { kind: 'exact' | 'contains' | 'regex' | 'json-field' }>;

/**
 * Score a model output against the example's answer with `exact`,
 * `contains`, `regex` or `json-field`. The feedback says what was expected
 * and adds the example's own `feedback` (domain facts) when the output is wrong.
 *
 * @example
 * scoreOutput({ kind: 'exact', ignoreCase: true }, 'Billing', { input: '…', answer: 'billing' }); // { score: 1, feedback: 'Correct.' }
 */
export function scoreOutput(metric: DeterministicMetric, output: string, example: DatasetExample): Verdict {
  const answer = example.answer;
  let got: string;
  let expected: string;
  let ok: boolean;
  switch (metric.kind) {
    case 'exact':
    case 'contains': {
      got = output.trim();
      expected = text(answer);
      const [a, b] = metric.ignoreCase ? [got.toLowerCase(), expected.toLowerCase()] : [got, expected];
      ok = metric.kind === 'exact' ? a === b : a.includes(b);
      break;
    }
    case 'regex': {
      const match = new RegExp(metric.pattern, metric.ignoreCase ? 'i' : '').exec(output);
      got = match ? (match[1] ?? match[0]).trim() : '';
      expected = text(answer);
      ok = match !== null && (metric.ignoreCase ? got.toLowerCase() === expected.toLowerCase() : got === expected);
      if (!match) return wrong(`The output did not match the required pattern ${metric.pattern}; expected ${JSON.stringify(expected)}.`, example);
      break;
    }
    case 'json-field': {
      const parsed = parseJsonObject(output);
      if (parsed === undefined) return wrong(`The output was not a JSON object; expected one with "${metric.field}": ${JSON.stringify(fieldOf(answer, metric.field) ?? answer)}.`, example);
      const value = fieldAt(parsed, metric.field);
      const want = fieldOf(answer, metric.field) ?? answer;
      got = JSON.stringify(value);
      expected = JSON.stringify(want);
      ok = got === expected;
      break;
    }
  }
  return ok ? { score: 1, feedback: 'Correct.' } : wrong(`Expected ${JSON.stringify(expected)}, got ${JSON.stringify(got.slice(0, 500))}.`, example);
}

function wrong(message: string, example: DatasetExample): Verdict {
  return { score: 0, feedback: example.feedback ? `${message} ${example.feedback}` : message };
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The first JSON object in a text (models often wrap JSON in prose or fences). */
export function parseJsonObject(output: string): Record<string, unknown> | undefined {
  const start = output.indexOf('{');
  const end = output.lastIndexOf('}');
  if (start === -1 || end <= start) return undefined;
  try {
    const value: unknown = JSON.parse(output.slice(start, end + 1));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined; // not JSON: the caller reports what was expected
  }
}

function fieldAt(value: unknown, path: string): unknown {
  let cursor = value;
  for (const key of path.split('.')) {
    if (cursor === null || typeof cursor !== 'object') return undefined;
    cursor = (cursor as Record<string, unknown>)[key];
  }
  return cursor;
}

/** An object answer contributes its own field; a plain answer is the field's value. */
function fieldOf(answer: unknown, path: string): unknown {
  return answer !== null && typeof answer === 'object' ? fieldAt(answer, path) : undefined;
}
