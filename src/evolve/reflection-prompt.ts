import type { RejectedAttempt } from '../core/evolve-state.ts';
import type { ReflectiveRecord } from './types.ts';

/** A rewrite of this component from this parent that was already turned down. */
export type { RejectedAttempt } from '../core/evolve-state.ts';

/**
 * The default reflection prompt (our wording). Placeholders: {component},
 * {current_text}, {examples}, {rejected}.
 */
export const DEFAULT_REFLECTION_PROMPT = `You are improving one part of the instructions a system follows: the text component "{component}".

The current text:
\`\`\`
{current_text}
\`\`\`

Below are inputs the system received while using this text, what it produced, and feedback on each result (higher scores are better).

{examples}
{rejected}
Write an improved version of the text:
1. Work out what the task is and what a good output looks like, from the examples and the feedback.
2. Find where the current text led the system astray, and what it already does well; keep what works.
3. Feedback often states facts about the domain (rules, categories, formats, edge cases) the system could not have known. Fold those facts into the text, stated generally enough to help on inputs not shown here.
4. The text must stand alone: it will be used without these examples.

Reply with the complete new text for "{component}" inside one fenced block (\`\`\` … \`\`\`). Only the text inside the block is used.`;

const FIELD_LIMIT = 4000;

/** Fill the reflection prompt for one component. */
export function buildReflectionPrompt(input: {
  template?: string;
  component: string;
  currentText: string;
  records: readonly ReflectiveRecord[];
  rejected: readonly RejectedAttempt[];
  /** Why the previous reply in this proposal was unusable, if it was. */
  retryReason?: string;
  /** The researcher's active notes (`strata guide`), read afresh for every reflection. */
  notes?: readonly { id: number; text: string; author: string }[];
}): string {
  const examples = input.records.map((record, i) => formatRecord(record, i + 1)).join('\n\n');
  let rejected = '';
  if (input.rejected.length > 0) {
    rejected = `\nEarlier rewrites of this text were tried and turned down; do not repeat them:\n${input.rejected
      .map((attempt) => `- ${attempt.reason}: ${JSON.stringify(attempt.excerpt)}`)
      .join('\n')}\n`;
  }
  // In the {rejected} slot, so a custom template that predates notes still carries them.
  if (input.notes && input.notes.length > 0) {
    rejected += `\nNotes from the researcher (follow them; they take precedence):\n${input.notes.map((note) => `- [note ${note.id}, ${note.author}] ${note.text.replace(/\s+/g, ' ').trim()}`).join('\n')}\n`;
  }
  if (input.retryReason) rejected += `\nYour previous reply could not be used (${input.retryReason}). Reply again, following the format exactly.\n`;
  const values: Record<string, string> = { component: input.component, current_text: input.currentText, examples, rejected };
  return (input.template ?? DEFAULT_REFLECTION_PROMPT).replace(/\{(component|current_text|examples|rejected)\}/g, (_, name: string) => values[name]!);
}

function formatRecord(record: ReflectiveRecord, number: number): string {
  const lines = [`### Example ${number}`];
  for (const [key, value] of Object.entries(record)) {
    const text = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
    lines.push(`**${key}**`, text.length > FIELD_LIMIT ? `${text.slice(0, FIELD_LIMIT)}… [truncated]` : text);
  }
  return lines.join('\n');
}

/**
 * The text between the first and the last triple-backtick fence, without a
 * language tag on the opening fence line. Null when there is no pair of fences.
 *
 * @example
 * extractFencedText('Here:\n```text\nBe brief.\n```'); // 'Be brief.'
 */
export function extractFencedText(reply: string): string | null {
  const first = reply.indexOf('```');
  const last = reply.lastIndexOf('```');
  if (first === -1 || last === first) return null;
  let inner = reply.slice(first + 3, last);
  const newline = inner.indexOf('\n');
  if (newline !== -1 && /^[\w+-]*\s*$/.test(inner.slice(0, newline))) inner = inner.slice(newline + 1);
  return inner.trim();
}

/**
 * The new text in a reflection reply, or why it cannot become a component:
 * cut off by the length limit, no fenced block, empty, unchanged, too long.
 */
export function readReflectionReply(reply: { text: string; finishReason: string }, currentText: string, maxChars: number): { reason: string } | { text: string } {
  if (reply.finishReason === 'length') return { reason: 'the reply was cut off at the output token limit' };
  const text = extractFencedText(reply.text);
  if (text === null) return { reason: 'no fenced block in the reply' };
  if (text.length === 0) return { reason: 'the fenced block was empty' };
  if (text === currentText.trim()) return { reason: 'the text was returned unchanged' };
  if (text.length > maxChars) return { reason: `the new text has ${text.length} characters, over the limit of ${maxChars}` };
  return { text };
}
