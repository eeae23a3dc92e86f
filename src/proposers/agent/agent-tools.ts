import type { ToolSet } from 'ai';
import { z } from 'zod';
import type { TrialSummary } from '../../core/proposer.ts';
import { digestHistory, formatNumber } from './history-digest.ts';
import type { ProjectFiles } from './project-files.ts';

const LOG_CHARS = 6000;
const DIFF_CHARS = 6000;
const RESULTS_ROWS = 200;

const schemas = {
  list_files: z.object({ path: z.string().optional().describe('a folder relative to the project; default the whole project') }),
  read_file: z.object({
    path: z.string().describe('file path relative to the project folder'),
    start_line: z.number().int().min(1).optional().describe('first line to show (1-based)'),
    end_line: z.number().int().min(1).optional().describe('last line to show (inclusive)'),
  }),
  search: z.object({ pattern: z.string().describe('plain text to find (case-sensitive)'), path: z.string().optional().describe('a folder or file to search; default everything') }),
  edit_file: z.object({
    path: z.string(),
    old_text: z.string().describe('text to replace, copied exactly from the file; must occur exactly once. Empty creates a new file'),
    new_text: z.string().describe('the replacement'),
  }),
  write_file: z.object({ path: z.string(), content: z.string().describe('the complete new content of the file') }),
  show_results: z.object({}),
  show_log: z.object({ trial: z.number().int().min(0).describe('trial number (#)') }),
  finish: z.object({
    description: z.string().describe('one line: what you changed and why (the commit message)'),
    hypothesis: z.string().describe('why you expect it to improve the metric'),
  }),
};

export type AgentToolName = keyof typeof schemas;

/** The tools offered to the model (no `execute`: the agent loop runs them, confined to the project). */
export const AGENT_TOOLS: ToolSet = {
  list_files: { description: 'List the files of the project (sizes; editable ones marked).', inputSchema: schemas.list_files },
  read_file: { description: 'Read a file with line numbers, optionally a line range.', inputSchema: schemas.read_file },
  search: { description: 'Find lines containing some text, across the project or under a path.', inputSchema: schemas.search },
  edit_file: { description: 'Replace one exact occurrence of old_text with new_text in an editable file.', inputSchema: schemas.edit_file },
  write_file: { description: 'Write the complete content of an editable file (replacing it).', inputSchema: schemas.write_file },
  show_results: { description: "The study's results so far: every trial's status, metric, delta and description.", inputSchema: schemas.show_results },
  show_log: { description: "One earlier trial's description, outcome, diff and log tail.", inputSchema: schemas.show_log },
  finish: { description: 'End your turn once the change is made: a one-line description and the hypothesis.', inputSchema: schemas.finish },
};

/** What the tools can see besides the files. */
export interface ToolScope {
  files: ProjectFiles;
  history: readonly TrialSummary[];
  metric: string;
  goal: 'minimize' | 'maximize';
}

/** The outcome of one tool call: text for the model, and for `finish` the proposal's words. */
export type ToolOutcome = { output: string; isError: boolean; finish?: { description: string; hypothesis: string } };

/**
 * Run one tool call. Never throws for what the model asked: a refused path, a
 * bad argument or a missing file comes back as an error text the model reads.
 *
 * @example
 * runAgentTool('read_file', { path: 'train.py', start_line: 1, end_line: 40 }, scope); // { output: '    1  import torch…', isError: false }
 */
export function runAgentTool(name: string, input: unknown, scope: ToolScope): ToolOutcome {
  if (!(name in schemas)) return { output: `unknown tool ${name}; available: ${Object.keys(schemas).join(', ')}`, isError: true };
  const parsed = schemas[name as AgentToolName].safeParse(input ?? {});
  if (!parsed.success) return { output: `invalid arguments for ${name}: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || '(input)'} ${issue.message}`).join('; ')}`, isError: true };
  const args = parsed.data as Record<string, unknown>;
  try {
    switch (name as AgentToolName) {
      case 'list_files': {
        const { files, truncated } = scope.files.list((args.path as string | undefined) ?? '.');
        const lines = files.map((file) => `${file.path}  ${file.bytes} bytes${file.editable ? '  (editable)' : ''}`);
        return { output: (lines.length === 0 ? 'no files' : lines.join('\n')) + (truncated ? '\n[more files not listed; list a folder]' : ''), isError: false };
      }
      case 'read_file':
        return { output: scope.files.read(args.path as string, args.start_line as number | undefined, args.end_line as number | undefined), isError: false };
      case 'search':
        return { output: scope.files.search(args.pattern as string, (args.path as string | undefined) ?? '.'), isError: false };
      case 'edit_file':
        return { output: scope.files.replace(args.path as string, args.old_text as string, args.new_text as string), isError: false };
      case 'write_file':
        scope.files.write(args.path as string, args.content as string);
        return { output: `wrote ${args.path as string}`, isError: false };
      case 'show_results':
        return { output: resultsTable(scope), isError: false };
      case 'show_log':
        return showLog(args.trial as number, scope);
      case 'finish': {
        const description = String(args.description).trim();
        if (!description) return { output: 'the description is empty; say in one line what you changed and why', isError: true };
        return { output: 'finished', isError: false, finish: { description, hypothesis: String(args.hypothesis).trim() } };
      }
    }
  } catch (error) {
    return { output: error instanceof Error ? error.message : String(error), isError: true };
  }
}

function resultsTable(scope: ToolScope): string {
  if (scope.history.length === 0) return 'no trials have finished yet';
  const rows = scope.history.slice(-RESULTS_ROWS).map((trial) => {
    const delta = trial.delta === null ? '' : `${trial.delta > 0 ? '+' : ''}${formatNumber(trial.delta)}`;
    const why = trial.status === 'keep' || trial.status === 'discard' || !trial.reason ? '' : ` [${trial.reason.slice(0, 100)}]`;
    return `#${trial.seq}\t${trial.status}\t${trial.metric === null ? '-' : formatNumber(trial.metric)}\t${delta}\t${trial.description}${why}`;
  });
  const skipped = scope.history.length - rows.length;
  const header = `trial\tstatus\t${scope.metric}\tdelta (positive = better)\tdescription`;
  const summary = skipped > 0 ? `${digestHistory(scope.history.slice(0, skipped), { metric: scope.metric, goal: scope.goal, recentTrials: 0, maxTokens: 500 })}\n\n` : '';
  return `${summary}${header}\n${rows.join('\n')}`;
}

function showLog(seq: number, scope: ToolScope): ToolOutcome {
  const trial = scope.history.find((other) => other.seq === seq);
  if (!trial) return { output: `no finished trial #${seq}; trials: #${scope.history[0]?.seq ?? 0}..#${scope.history.at(-1)?.seq ?? 0}`, isError: true };
  const diff = trial.diff ? (trial.diff.length > DIFF_CHARS ? `${trial.diff.slice(0, DIFF_CHARS)}\n[… diff cut]` : trial.diff) : '(no diff)';
  const log = trial.logTail ? (trial.logTail.length > LOG_CHARS ? `[…]\n${trial.logTail.slice(-LOG_CHARS)}` : trial.logTail) : '(no log)';
  const metric = trial.metric === null ? '-' : formatNumber(trial.metric);
  return {
    output: `trial #${trial.seq}: ${trial.status} ${scope.metric}=${metric}${trial.reason ? ` (${trial.reason})` : ''}\ndescription: ${trial.description}\n\ndiff:\n${diff}\n\nlog tail:\n${log}`,
    isError: false,
  };
}
