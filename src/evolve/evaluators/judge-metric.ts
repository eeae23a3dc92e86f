import type { ModelClient } from '../../llm/model-client.ts';
import type { DatasetExample } from './jsonl-dataset.ts';
import { parseJsonObject, type Verdict } from './score-output.ts';

/**
 * Ask a judge model to grade an output against a rubric; it answers with
 * `{"score": 0..1, "feedback": "..."}`. An unreadable verdict throws (the
 * example then scores 0 with the reason).
 *
 * @example
 * const verdict = await judgeOutput(judge, 'Polite, names the category', example, output, signal);
 */
export async function judgeOutput(client: ModelClient, rubric: string, example: DatasetExample, output: string, signal: AbortSignal): Promise<Verdict> {
  const reference = example.answer === undefined ? '' : `\n\nA reference answer (a good response need not match it word for word):\n${show(example.answer)}`;
  const prompt = `Grade a response against a rubric.

Rubric:
${rubric}

The input the system received:
${show(example.input)}${reference}

The system's response:
${output}

Reply with JSON only, on one line: {"score": <a number from 0 to 1>, "feedback": "<what is right or wrong, specifically enough to fix it>"}`;
  const reply = await client.call({ role: 'judge', prompt, maxOutputTokens: 600, temperature: 0, signal });
  const verdict = parseJsonObject(reply.text);
  const score = Number(verdict?.score);
  if (!verdict || !Number.isFinite(score)) throw new Error(`the judge's reply had no {"score", "feedback"} JSON: ${JSON.stringify(reply.text.slice(0, 200))}`);
  const feedback = typeof verdict.feedback === 'string' ? verdict.feedback : '';
  return { score: Math.min(1, Math.max(0, score)), feedback: example.feedback && score < 1 ? `${feedback} ${example.feedback}` : feedback };
}

function show(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
}
