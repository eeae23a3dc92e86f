/**
 * The support-triage task the evolve CLI tests share: tickets named by a
 * keyword, a task model that answers with the category of the first
 * `keyword -> category` rule in its system prompt, and a reflector that adds
 * one rule the feedback reveals per proposal (so runs improve step by step
 * and are reproducible).
 */
import type { LoopbackRequest } from './loopback-model.ts';

export const TRIAGE_RULES: Record<string, string> = { refund: 'billing', invoice: 'billing', crash: 'bug', error: 'bug', password: 'account', login: 'account' };

/** The loopback script: reflection requests get the current text plus one learned rule; task requests get a category. */
export function triageModel(request: LoopbackRequest) {
  if (request.lastUserText.includes('improving one part of the instructions')) {
    const current = /```\n([\s\S]*?)\n```/.exec(request.lastUserText)?.[1] ?? '';
    const learned = [...request.lastUserText.matchAll(/keyword: (\w+)[\s\S]*?Expected "(\w+)"/g)]
      .map(([, keyword, category]) => `${keyword} -> ${category}`)
      .filter((rule) => !current.includes(rule));
    return { text: `\`\`\`\n${[current, ...new Set(learned.slice(0, 1))].join('\n')}\n\`\`\`` };
  }
  const keyword = /keyword: (\w+)/.exec(request.lastUserText)?.[1] ?? '';
  const rule = new RegExp(`^${keyword} -> (\\w+)$`, 'm').exec(request.system);
  return { text: rule ? rule[1]! : 'unknown', usage: { input: 50, output: 2 } };
}

/** `n` tickets as JSONL, ids `<prefix>0…`, cycling through the rules' keywords. */
export function triageLines(prefix: string, n: number): string {
  const keywords = Object.keys(TRIAGE_RULES);
  return Array.from({ length: n }, (_, i) => JSON.stringify({ id: `${prefix}${i}`, input: `keyword: ${keywords[i % keywords.length]}. Please help.`, answer: TRIAGE_RULES[keywords[i % keywords.length]!] })).join('\n');
}
