import type { Candidate } from '../types.ts';

/**
 * The task model's messages for one example: `{component}` and `{input}`
 * placeholders filled in. Without a system template the components are the
 * system message, in order, separated by blank lines.
 *
 * @example
 * renderTask({ user: '{input}' }, { system_prompt: 'Classify.' }, 'My card was charged twice');
 * // { system: 'Classify.', user: 'My card was charged twice' }
 */
export function renderTask(template: { system?: string; user: string }, candidate: Candidate, input: unknown): { system: string; user: string } {
  const inputText = typeof input === 'string' ? input : JSON.stringify(input, null, 2);
  const fill = (text: string) => text.replace(/\{([A-Za-z_][\w-]*)\}/g, (whole, name: string) => (name === 'input' ? inputText : (candidate[name] ?? whole)));
  const system = template.system === undefined ? Object.values(candidate).join('\n\n') : fill(template.system);
  return { system, user: fill(template.user) };
}
