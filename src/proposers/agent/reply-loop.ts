import type { ModelMessage } from 'ai';
import { ProposalError } from '../../core/errors.ts';
import type { ModelClient } from '../../llm/model-client.ts';
import type { AgentUsage } from './agent-usage.ts';
import type { ProjectFiles } from './project-files.ts';
import type { Brief } from './research-brief.ts';
import { applyEdits, parseSearchReplace, parseWholeFiles, ReplyFormatError, type ParsedReply } from './reply-edits.ts';
import type { AgentFinish } from './tool-loop.ts';

export interface ReplyLoopOptions {
  client: ModelClient;
  brief: Brief;
  files: ProjectFiles;
  usage: AgentUsage;
  format: 'search-replace' | 'whole-file';
  /** Corrections asked for after a reply that cannot be applied, before the proposal fails. */
  retries: number;
  maxOutputTokens: number;
  /** Accept a reply with a description and no edits (a repair that gives up). */
  allowNoChange: boolean;
  trialId: number;
  signal: AbortSignal;
}

/**
 * One proposal for models without tool calling: ask for edits in the reply
 * (SEARCH/REPLACE blocks or whole files), apply them all-or-nothing, and when
 * a reply cannot be applied (no description, a SEARCH that does not match
 * exactly once, a path that is not editable) send the reason back and ask
 * again, up to `retries` times; then the proposal fails.
 *
 * @example
 * const finish = await runReplyLoop({ client, brief, files, usage, format: 'search-replace', retries: 2, maxOutputTokens: 8192, allowNoChange: false, trialId, signal });
 */
export async function runReplyLoop(options: ReplyLoopOptions): Promise<AgentFinish> {
  const { client, brief, files, usage } = options;
  const parse = options.format === 'search-replace' ? parseSearchReplace : parseWholeFiles;
  const messages: ModelMessage[] = [{ role: 'user', content: brief.prompt }];
  let problem = '';
  for (let attempt = 0; attempt <= options.retries; attempt++) {
    const reply = await client.call({
      role: 'agent',
      system: brief.system,
      messages: [...messages],
      maxOutputTokens: options.maxOutputTokens,
      trialId: options.trialId,
      signal: options.signal,
    });
    usage.add(reply);
    try {
      const parsed = parseOrGiveUp(parse, reply.text, options.allowNoChange);
      if (parsed.edits.length > 0) applyEdits(files, parsed.edits);
      return { description: parsed.description, hypothesis: parsed.hypothesis };
    } catch (error) {
      if (!(error instanceof ReplyFormatError)) throw error;
      problem = error.message + (reply.finishReason === 'length' ? ' (your reply was cut off at the output limit: change less, or use SEARCH/REPLACE blocks)' : '');
      messages.push({ role: 'assistant', content: reply.text }, { role: 'user', content: `Your reply could not be applied, so nothing was changed: ${problem}. Reply again with the complete set of edits in the required format.` });
    }
  }
  throw new ProposalError(`the model's reply could not be applied after ${options.retries + 1} tries: ${problem}`, { details: { format: options.format } });
}

function parseOrGiveUp(parse: (text: string) => ParsedReply, text: string, allowNoChange: boolean): ParsedReply {
  try {
    return parse(text);
  } catch (error) {
    // A repair may decline: a description and no blocks means "this idea cannot be fixed".
    const description = /^\s*[*_]*DESCRIPTION[*_]*\s*:[*_]*\s*(.+)$/im.exec(text)?.[1]?.trim();
    if (allowNoChange && description && error instanceof ReplyFormatError && /^no (SEARCH\/REPLACE|file) block/.test(error.message)) {
      return { description, hypothesis: null, edits: [] };
    }
    throw error;
  }
}
