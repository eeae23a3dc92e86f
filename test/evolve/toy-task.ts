/**
 * A small deterministic task for engine tests: a candidate scores 1 on an
 * example when its text mentions the example's answer word. The loopback
 * reflection model "learns" by appending the words named in the feedback, so
 * runs converge, and every step is reproducible.
 */
import type { Evaluate } from '../../src/evolve/types.ts';
import type { LoopbackReply, LoopbackRequest } from '../helpers/loopback-model.ts';

export interface ToyExample {
  id: string;
  input: string;
  answer: string;
}

const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet'];

/** `n` examples whose answers cycle through the first `vocabulary` words. */
export function toyExamples(prefix: string, n: number, vocabulary = 6): ToyExample[] {
  return Array.from({ length: n }, (_, i) => ({ id: `${prefix}${i}`, input: `case ${prefix}${i}`, answer: WORDS[i % vocabulary]! }));
}

/** Scores 1 when any component mentions the answer; counts calls. */
export function toyEvaluator(options: { failOn?: (example: ToyExample) => boolean; delayMs?: number } = {}) {
  const calls: string[] = [];
  const evaluate: Evaluate<ToyExample> = async (candidate, example, context) => {
    calls.push(`${context.split}:${example.id}:${Object.values(candidate).join('|').length}`);
    if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
    if (options.failOn?.(example)) throw new Error(`cannot score ${example.id}`);
    const text = Object.values(candidate).join('\n');
    const ok = text.includes(example.answer);
    return { score: ok ? 1 : 0, feedback: ok ? 'correct' : `wrong: expected ${example.answer}`, trace: { input: example.input, output: ok ? example.answer : 'unknown' } };
  };
  return { evaluate, calls };
}

/**
 * A reflection model for the loopback server: returns the current text plus
 * the first word the feedback says was expected (one word per proposal, so
 * progress takes several iterations). With `cap`, a component keeps only its
 * last `cap` answer words, so lineages diverge and merges have work to do.
 * With nothing to add it repeats the text unchanged (which the engine must reject).
 */
export function toyReflection(cap = Number.POSITIVE_INFINITY): (request: LoopbackRequest) => LoopbackReply {
  return (request) => {
    const prompt = request.lastUserText;
    const current = /```\n([\s\S]*?)\n```/.exec(prompt)?.[1] ?? '';
    const expected = [...prompt.matchAll(/expected (\w+)/g)].map((m) => m[1]!).filter((word) => !current.includes(word));
    let next = expected[0] ? `${current} ${expected[0]}` : current;
    const known = next.split(' ').filter((word) => WORDS.includes(word));
    if (known.length > cap) next = next.replace(` ${known[0]}`, '');
    return { text: `Here is the improved text:\n\`\`\`\n${next}\n\`\`\``, usage: { input: Math.ceil(prompt.length / 4), output: 20 } };
  };
}
