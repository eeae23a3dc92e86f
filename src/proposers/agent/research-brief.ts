import { formatDuration } from '../../core/duration.ts';
import { ProposalError } from '../../core/errors.ts';
import type { ProposalContext, TrialSummary } from '../../core/proposer.ts';
import { systemPrompt, type BriefFormat } from './format-instructions.ts';
import { digestHistory, estimateTokens, formatNumber } from './history-digest.ts';
import type { ProjectFiles } from './project-files.ts';

export interface BriefOptions {
  /** The research program (program.md), placeholders filled. */
  program: string;
  format: BriefFormat;
  /** Token budget of the whole brief (system + prompt). */
  maxTokens: number;
  /** Trials listed one by one. */
  historyTrials: number;
}

/** What the agent is told for one proposal. */
export interface Brief {
  system: string;
  prompt: string;
  /** Estimated tokens of system + prompt. */
  tokens: number;
}

const DIFF_CHARS = 6000;
const LOG_CHARS = 4000;
const MIN_HISTORY_TOKENS = 150;

/**
 * Everything the agent is told for one proposal: the program, the study's
 * facts (metric, goal, budget, baseline, best), the editable files (their
 * content too when the model cannot read them with tools), a history digest
 * sized to what is left of the token budget, and the task, either a new idea
 * or the fix of a crashed trial with its diff and log tail.
 *
 * @example
 * const brief = buildBrief(context, files, { program, format: 'tools', maxTokens: 19_000, historyTrials: 12 });
 * await client.call({ role: 'agent', system: brief.system, prompt: brief.prompt });
 */
export function buildBrief(context: ProposalContext, files: ProjectFiles, options: BriefOptions): Brief {
  const system = systemPrompt(options.format);
  // The program as the file reads now (an edit during the run counts from this proposal on), then the researcher's notes, prominently.
  const program = context.guidance?.program ?? options.program;
  const notes = researcherNotes(context);
  const head = [`# Research program\n\n${program.trim()}`, ...(notes ? [notes] : []), `# This study\n\n${studyFacts(context, files, options.format)}`].join('\n\n');
  const task = context.repairOf ? repairTask(context.repairOf, context, options.format) : newIdeaTask(context, options.format);
  const fixed = estimateTokens(system) + estimateTokens(head) + estimateTokens(task) + 20;
  const historyBudget = options.maxTokens - fixed;
  if (historyBudget < MIN_HISTORY_TOKENS) {
    throw new ProposalError(
      `the agent's prompt needs about ${fixed + MIN_HISTORY_TOKENS} tokens (program, files, task) but research.prompt_tokens allows ${options.maxTokens} for it; raise prompt_tokens${options.format === 'tools' ? '' : ', or use edit_format: tools so files are read on demand'}`,
      { details: { needed: fixed, budget: options.maxTokens } },
    );
  }
  const history = digestHistory(context.history, { metric: context.config.metric.name, goal: context.goal, recentTrials: options.historyTrials, maxTokens: historyBudget });
  const prompt = [head, `# History\n\n${history}`, task].join('\n\n');
  return { system, prompt, tokens: estimateTokens(system) + estimateTokens(prompt) };
}

/** The researcher's active notes (`strata guide`), newest last; they outrank the program where the two differ. */
function researcherNotes(context: ProposalContext): string | undefined {
  const notes = context.guidance?.notes ?? [];
  if (notes.length === 0) return undefined;
  return [
    '# Notes from the researcher (added during this study; follow them, they take precedence over the program)',
    '',
    ...notes.map((note) => `- [note ${note.id}, ${note.author}] ${note.text.replace(/\s+/g, ' ').trim()}`),
  ].join('\n');
}

function studyFacts(context: ProposalContext, files: ProjectFiles, format: BriefFormat): string {
  const { config, goal } = context;
  const lines = [
    `- Metric: ${config.metric.name}, goal: ${goal} it.`,
    `- Each trial runs \`${config.run}\` with a wall-clock budget of ${formatDuration(config.budgetMs)}.`,
  ];
  const baseline = context.history.find((trial) => trial.candidateCommit !== null && trial.candidateCommit === trial.parentCommit && trial.metric !== null);
  if (baseline) lines.push(`- Baseline (unmodified code, trial #${baseline.seq}): ${config.metric.name} = ${formatNumber(baseline.metric!)}.`);
  if (context.best && context.best.metric !== null) lines.push(`- Best so far (trial #${context.best.seq}): ${config.metric.name} = ${formatNumber(context.best.metric)}. New changes start from it.`);
  const listed = files.list().files;
  const editable = listed.filter((file) => file.editable);
  lines.push(`- Editable files: ${editable.length === 0 ? `(none yet; globs: ${config.editable.join(', ')})` : editable.map((file) => `${file.path} (${file.bytes} bytes)`).join(', ')}.`);
  if (config.protected.length > 0) lines.push(`- Protected (read-only, checked every trial): ${config.protected.join(', ')}.`);
  if (context.inFlight.length > 0) {
    // With speculation the proposal is made while these run: the model must not re-propose what they try.
    lines.push(
      `- Running now, results not known yet (propose something different, as if they will be discarded): ${context.inFlight.map((trial) => `#${trial.seq} ${trial.description || '(being proposed)'}`).join('; ')}.`,
    );
  }
  if (context.revising) {
    const { description, keptSeq, reapplied, conflicts } = context.revising;
    lines.push(
      reapplied
        ? `- Revise: your earlier proposal "${description}" was made before trial #${keptSeq} was kept; it is re-applied onto the new best in these files. Keep it, adapt it to the new result, or undo it.`
        : `- Revise: your earlier proposal "${description}" was made before trial #${keptSeq} was kept and conflicts with it in ${conflicts.join(', ')}; the files hold the new best. Redo the idea on it if it still makes sense.`,
    );
  }
  if (format === 'tools' || format === 'command') {
    const others = listed.filter((file) => !file.editable).slice(0, 60);
    if (others.length > 0) lines.push(`- Other files: ${others.map((file) => file.path).join(', ')}${listed.length - editable.length > others.length ? ', …' : ''}.`);
    return lines.join('\n');
  }
  // Without tools the model sees the editable files here, verbatim, to copy SEARCH lines from.
  const contents = editable.map((file) => {
    const text = files.readText(file.path);
    const fence = '`'.repeat(Math.max(3, longestRun(text, '`') + 1));
    return `${file.path}\n${fence}\n${text.endsWith('\n') ? text : `${text}\n`}${fence}`;
  });
  return `${lines.join('\n')}\n\n## Editable files, current content\n\n${contents.join('\n\n')}`;
}

function newIdeaTask(context: ProposalContext, format: BriefFormat): string {
  const how =
    format === 'tools'
      ? 'Look at the code with the tools, make one change, then call finish.'
      : format === 'command'
        ? 'Make one change to the editable files, then print the DESCRIPTION line.'
        : 'Reply in the required format.';
  return `# Your task (trial #${context.seq})\n\nPropose the next experiment: one idea, not tried before, that you expect to ${context.goal} ${context.config.metric.name} within the time budget. ${how}`;
}

function repairTask(crashed: TrialSummary, context: ProposalContext, format: BriefFormat): string {
  const giveUp =
    format === 'tools'
      ? 'call finish without editing anything'
      : format === 'command'
        ? 'exit without changing anything'
        : 'reply with a DESCRIPTION line explaining why, and no blocks';
  const diff = crashed.diff ? tail(crashed.diff, DIFF_CHARS, 'head') : '(no diff recorded)';
  const log = crashed.logTail ? tail(crashed.logTail, LOG_CHARS, 'tail') : '(no output)';
  return `# Your task (trial #${context.seq}): fix the crash of trial #${crashed.seq}

Trial #${crashed.seq} ("${crashed.description}") crashed: ${crashed.reason ?? 'unknown reason'}. The files now hold that change; this is its diff against the code it started from:

\`\`\`diff
${diff}
\`\`\`

The end of its log:

\`\`\`
${log}
\`\`\`

If this is a bug in the change (a typo, a missing import, a shape or type error), fix it so the idea can be measured, without changing the idea. If the idea itself cannot work, ${giveUp}.`;
}

function tail(text: string, chars: number, keep: 'head' | 'tail'): string {
  if (text.length <= chars) return text.trimEnd();
  return keep === 'tail' ? `[…]\n${text.slice(-chars).trimEnd()}` : `${text.slice(0, chars).trimEnd()}\n[… ${text.length - chars} more characters]`;
}

function longestRun(text: string, char: string): number {
  let best = 0;
  let run = 0;
  for (const c of text) {
    run = c === char ? run + 1 : 0;
    if (run > best) best = run;
  }
  return best;
}
