import type { ModelMessage, ToolModelMessage, ToolResultPart } from 'ai';
import { ProposalError } from '../../core/errors.ts';
import { LlmCallError } from '../../llm/errors.ts';
import type { ModelClient } from '../../llm/model-client.ts';
import { AGENT_TOOLS, runAgentTool, type ToolScope } from './agent-tools.ts';
import type { AgentUsage } from './agent-usage.ts';
import { estimateTokens } from './history-digest.ts';
import type { Brief } from './research-brief.ts';

export interface ToolLoopOptions {
  client: ModelClient;
  brief: Brief;
  scope: ToolScope;
  usage: AgentUsage;
  /** Model calls allowed; the last one may only call finish. */
  maxSteps: number;
  /** Token budget of each request; older tool outputs are elided to stay under it. */
  maxPromptTokens: number;
  maxOutputTokens: number;
  /** Accept finish without any edit (a repair that gives up). */
  allowNoChange: boolean;
  trialId: number;
  signal: AbortSignal;
}

/** How the agent ended its turn. */
export interface AgentFinish {
  description: string;
  hypothesis: string | null;
}

const ELIDE_ABOVE_CHARS = 300;
const NUDGE = 'Use the tools to make your change in the editable files, then call finish with a one-line description and the hypothesis.';

/**
 * The tool-calling loop of one proposal: call the model with the brief and
 * the tools, run the tools it asks for (confined to the project), send the
 * results back, until it calls finish. Bounded by `maxSteps` calls (the last
 * one is told to finish) and by a token budget per request (the oldest tool
 * outputs are elided first, deterministically).
 *
 * @example
 * const finish = await runToolLoop({ client, brief, scope, usage, maxSteps: 30, maxPromptTokens: 32_000, maxOutputTokens: 4096, allowNoChange: false, trialId, signal });
 */
export async function runToolLoop(options: ToolLoopOptions): Promise<AgentFinish> {
  const { client, brief, scope, usage } = options;
  const messages: ModelMessage[] = [{ role: 'user', content: brief.prompt }];
  for (let step = 1; step <= options.maxSteps; step++) {
    const last = step === options.maxSteps;
    if (last) messages.push({ role: 'user', content: 'This is your last step: call finish now.' });
    fitToBudget(messages, options.maxPromptTokens - estimateTokens(brief.system) - 1500);
    const reply = await client
      .call({
        role: 'agent',
        system: brief.system,
        messages: [...messages],
        tools: AGENT_TOOLS,
        ...(last ? { toolChoice: { type: 'tool', toolName: 'finish' } as const } : {}),
        maxOutputTokens: options.maxOutputTokens,
        trialId: options.trialId,
        signal: options.signal,
      })
      .catch((error: unknown) => {
        // Told to call finish, a model that does not comes back as an unreadable reply: say what really happened.
        if (last && error instanceof LlmCallError && error.status === undefined) throw outOfSteps(options.maxSteps, error);
        throw error;
      });
    usage.add(reply);
    // The SDK already answered calls it could not parse (unknown tool, bad JSON): keep its answers, run the rest.
    const answered = new Set<string>();
    let toolMessage: ToolModelMessage | undefined;
    for (const message of reply.responseMessages) {
      if (message.role === 'tool') {
        toolMessage = message;
        for (const part of message.content) if (part.type === 'tool-result') answered.add(part.toolCallId);
      } else {
        messages.push(message);
      }
    }
    let finished: AgentFinish | undefined;
    const results: ToolResultPart[] = [...(toolMessage?.content.filter((part): part is ToolResultPart => part.type === 'tool-result') ?? [])];
    for (const call of reply.toolCalls) {
      if (answered.has(call.toolCallId)) continue;
      let outcome = finished ? { output: 'ignored: you already called finish', isError: true } : runAgentTool(call.toolName, call.input, scope);
      if ('finish' in outcome && outcome.finish) {
        if (scope.files.written.length === 0 && !options.allowNoChange) {
          outcome = { output: 'You have not changed any file yet. Make your change with edit_file or write_file first, then call finish.', isError: true };
        } else {
          finished = { description: outcome.finish.description, hypothesis: outcome.finish.hypothesis || null };
        }
      }
      results.push({ type: 'tool-result', toolCallId: call.toolCallId, toolName: call.toolName, output: outcome.isError ? { type: 'error-text', value: outcome.output } : { type: 'text', value: outcome.output } });
    }
    if (finished) return finished;
    if (results.length > 0) messages.push({ role: 'tool', content: results });
    else messages.push({ role: 'user', content: NUDGE });
  }
  throw outOfSteps(options.maxSteps);
}

function outOfSteps(maxSteps: number, cause?: unknown): ProposalError {
  return new ProposalError(`the agent did not call finish within ${maxSteps} model calls; raise research.agent_max_steps if it needs more`, cause === undefined ? {} : { cause });
}

/**
 * Keep a conversation under a token budget by replacing the oldest long tool
 * outputs with a note (never the brief, never the latest exchange).
 */
export function fitToBudget(messages: ModelMessage[], maxTokens: number): void {
  const size = () => estimateTokens(JSON.stringify(messages));
  if (size() <= maxTokens) return;
  for (let i = 1; i < messages.length - 2; i++) {
    const message = messages[i]!;
    if (message.role !== 'tool') continue;
    for (const part of message.content) {
      if (part.type !== 'tool-result' || (part.output.type !== 'text' && part.output.type !== 'error-text')) continue;
      if (part.output.value.length <= ELIDE_ABOVE_CHARS) continue;
      part.output = { type: part.output.type, value: `[${part.output.value.length} characters elided to stay within research.prompt_tokens; call the tool again if you need them]` };
    }
    if (size() <= maxTokens) return;
  }
}
