import type { EvaluationResult, ReflectiveRecord } from './types.ts';

/**
 * What the reflector sees for one example by default: the input, what the
 * system produced, the score and the feedback. A trace shaped like
 * `{ input, output, ...more }` is unpacked; any other trace is shown as the output.
 *
 * @example
 * defaultReflectiveRecord({ input: 'Refund?' }, { score: 0, feedback: 'expected billing', trace: { input: 'Refund?', output: 'bug' } });
 * // { Input: 'Refund?', Output: 'bug', Score: 0, Feedback: 'expected billing' }
 */
export function defaultReflectiveRecord(example: unknown, result: EvaluationResult): ReflectiveRecord {
  const feedback = result.feedback ?? '(no feedback)';
  const trace = result.trace;
  if (trace !== null && typeof trace === 'object' && !Array.isArray(trace) && ('input' in trace || 'output' in trace)) {
    const { input, output, ...rest } = trace as Record<string, unknown>;
    return {
      Input: input ?? inputOf(example),
      Output: output ?? '(none)',
      ...(Object.keys(rest).length > 0 ? { Trace: rest } : {}),
      Score: result.score,
      Feedback: feedback,
    };
  }
  return { Input: inputOf(example), Output: trace ?? '(no trace)', Score: result.score, Feedback: feedback };
}

function inputOf(example: unknown): unknown {
  if (example !== null && typeof example === 'object' && 'input' in example) return (example as { input: unknown }).input;
  return example;
}
