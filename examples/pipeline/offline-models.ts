/**
 * The offline stand-ins for the two models a tiny-lm pipeline uses, served by
 * the loopback model server (real HTTP, the real AI SDK client path):
 *
 * - the research agent: a scripted heuristic that edits the DEFAULTS line of
 *   train.ts. Each idea changes one setting (lr ×3, hidden ×1.5, context +2,
 *   embed +4, init_scale ×0.5, batch ×2). Which setting it tries next depends
 *   on the program it was given: a `Priorities: a, b, …` line makes it try the
 *   listed settings first (the one tried least so far); without one it goes
 *   round the settings in its own order (the DEFAULTS order unless told). It never sees results except
 *   through the program, so a better program is the only way it gets better.
 * - the reflector: a scripted heuristic that reads the trial tables of the
 *   research evaluations and writes the program back with a `Priorities:`
 *   line: settings whose changes were kept, largest total improvement first,
 *   then settings not tried yet, then the ones that did not help.
 *
 * Neither is a language model: what a pipeline gains with them says the
 * machinery works, not whether a real model's evolved program beats the
 * default one. That question needs `examples/pipeline/pipeline.yaml` and a key.
 */
import type { LoopbackReply, LoopbackRequest, LoopbackScript } from '../../test/helpers/loopback-model.ts';

export const SETTINGS = ['lr', 'hidden', 'context', 'embed', 'init_scale', 'batch'] as const;
export type Setting = (typeof SETTINGS)[number];

const DEFAULTS_LINE = /const DEFAULTS: Hyperparameters = \{([^}]*)\};/;

/**
 * One loopback script for both parts, told apart by the request (the agent is
 * offered tools; the reflector and the start-up check are not). `order` is the
 * agent's own preference when the program names no priorities (default: the
 * DEFAULTS order, which happens to put the strongest idea, lr, first).
 */
export function tinyLmModels(options: { order?: readonly Setting[] } = {}): LoopbackScript {
  const order = options.order ?? SETTINGS;
  return (request) => {
    if (request.tools.length > 0) return agentReply(request, order);
    if (request.lastUserText.includes('You are improving one part')) return reflectionReply(request.lastUserText);
    return { text: 'OK' };
  };
}

/** The agent: read the DEFAULTS line, change the setting the program puts first (least tried), finish. */
export function agentReply(request: LoopbackRequest, order: readonly Setting[] = SETTINGS): LoopbackReply {
  const brief = request.messages.find((message) => message.role === 'user')?.content ?? '';
  if (brief.includes('fix the crash of trial')) return { toolCalls: [{ name: 'finish', arguments: { description: 'give up on the crashed idea', hypothesis: 'the idea itself broke the run' } }] };
  const tools = request.messages.filter((message) => message.role === 'tool').map((message) => message.content).join('\n');
  const line = DEFAULTS_LINE.exec(tools);
  if (!line) return { toolCalls: [{ name: 'read_file', arguments: { path: 'train.ts', start_line: 38, end_line: 44 } }] };
  const values = Object.fromEntries(line[1]!.split(',').map((pair) => pair.split(':').map((part) => part.trim()))) as Record<string, string>;
  const setting = nextSetting(programOf(brief), historyOf(brief), order);
  const before = Number(values[setting]);
  const after = change(setting, before);
  const updated = line[0].replace(new RegExp(`\\b${setting}: [^,}]+`), `${setting}: ${after}`);
  return {
    toolCalls: [
      { name: 'edit_file', arguments: { path: 'train.ts', old_text: line[0], new_text: updated } },
      { name: 'finish', arguments: { description: `${setting} ${before} → ${after} (${setting})`, hypothesis: `the program puts ${setting} first` } },
    ],
  };
}

/** The reflector: priorities from what the evaluations' trial tables say helped. */
export function reflectionReply(prompt: string): LoopbackReply {
  const current = /The current text:\n```\n([\s\S]*?)\n```/.exec(prompt)?.[1] ?? '';
  const gain = new Map<Setting, number>();
  const tried = new Set<Setting>();
  for (const row of prompt.matchAll(/^#\d+ \| (\w+)[^|]*\| [^|]* \| ([^|]*) \| .*\((\w+)\)\s*$/gm)) {
    const setting = row[3] as Setting;
    if (!SETTINGS.includes(setting)) continue;
    tried.add(setting);
    const delta = Number(row[2]);
    // val_bpb is minimized: a kept change's negative delta is its gain.
    if (row[1] === 'keep' && Number.isFinite(delta)) gain.set(setting, (gain.get(setting) ?? 0) - delta);
  }
  const helped = [...gain.entries()].filter(([, value]) => value > 0).sort((a, b) => b[1] - a[1]).map(([setting]) => setting);
  const untried = SETTINGS.filter((setting) => !tried.has(setting));
  const rest = SETTINGS.filter((setting) => !helped.includes(setting) && !untried.includes(setting));
  const priorities = [...helped, ...untried, ...rest];
  const text = `${current.replace(/\n*## Priorities[\s\S]*$/, '').trimEnd()}\n\n## Priorities\n\nPriorities: ${priorities.join(', ')}`;
  return { text: `\`\`\`\n${text}\n\`\`\`` };
}

function programOf(brief: string): string {
  return /# Research program\n\n([\s\S]*?)\n\n# This study/.exec(brief)?.[1] ?? '';
}

/** How often each setting was tried in this study: one count per trial the brief's history lists (a trial may be listed twice). */
function historyOf(brief: string): Map<Setting, number> {
  const history = brief.slice(brief.indexOf('# History'));
  const bySeq = new Map<string, Setting>();
  for (const match of history.matchAll(/#(\d+) \w+ [^\n]*\((lr|hidden|context|embed|init_scale|batch)\)/g)) bySeq.set(match[1]!, match[2] as Setting);
  const counts = new Map<Setting, number>();
  for (const setting of bySeq.values()) counts.set(setting, (counts.get(setting) ?? 0) + 1);
  return counts;
}

/** The program's priorities (or the agent's own order), least-tried first, earlier in the list on ties. */
function nextSetting(program: string, counts: Map<Setting, number>, preference: readonly Setting[]): Setting {
  const listed = /^Priorities: (.+)$/m.exec(program)?.[1]?.split(',').map((item) => item.trim()).filter((item): item is Setting => (SETTINGS as readonly string[]).includes(item));
  // The top two priorities are worked first; the rest only once those were each tried twice as often.
  const order = listed && listed.length > 0 ? listed : [...preference];
  const weight = (setting: Setting, index: number) => (counts.get(setting) ?? 0) / (listed && index < 2 ? 2 : 1);
  return order.reduce((best, setting, index) => (weight(setting, index) < weight(best, order.indexOf(best)) ? setting : best), order[0]!);
}

function change(setting: Setting, value: number): number {
  switch (setting) {
    case 'lr':
      return Number((value * 3).toPrecision(3));
    case 'hidden':
      return Math.round(value * 1.5);
    case 'context':
      return Math.min(12, value + 2);
    case 'embed':
      return value + 4;
    case 'init_scale':
      return Number((value * 0.5).toPrecision(3));
    case 'batch':
      return value * 2;
  }
}
