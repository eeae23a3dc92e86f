import type { AgentSettings } from '../../core/config/research-config.ts';
import { ProposalError } from '../../core/errors.ts';
import type { Proposal, ProposalContext, Proposer, TrialSummary } from '../../core/proposer.ts';
import type { ModelClient } from '../../llm/model-client.ts';
import { AgentUsage } from './agent-usage.ts';
import { chooseRepair } from './crash-repair.ts';
import { ProjectFiles } from './project-files.ts';
import { buildBrief } from './research-brief.ts';
import { runReplyLoop } from './reply-loop.ts';
import { runToolLoop } from './tool-loop.ts';

export interface AgentProposerOptions {
  client: ModelClient;
  /** The research program (program.md), placeholders filled. */
  program: string;
  settings: Pick<AgentSettings, 'editFormat' | 'maxFixAttempts' | 'timeoutMs' | 'maxSteps' | 'promptTokens' | 'historyTrials'>;
  /** Corrections asked for after an unusable text reply (search-replace, whole-file); default 2. */
  formatRetries?: number;
  /** Output cap per call; default 4096 with tools, 8192 for text replies (whole files are long). */
  maxOutputTokens?: number;
}

/** Share of `prompt_tokens` the brief may take; the rest is room for the tool conversation or a correction. */
const BRIEF_SHARE = 0.6;

/**
 * `proposer: agent`: an LLM that changes the training code itself. Each
 * proposal builds a brief (program, study facts, history digest, task), then
 * lets the model edit the trial's project folder through confined tools, or
 * applies the edits its reply carries (search-replace / whole-file), and
 * returns its one-line description with the hypothesis, model and cost in
 * `meta`. Every model call is an `llm_calls` row of the trial it proposes.
 * After a crash that looks like a bug in the change it asks the loop to start
 * the next trial from that candidate and fix it, up to `maxFixAttempts` times.
 *
 * @example
 * const proposer = new AgentProposer({ client, program, settings: research.agent });
 * await runResearch({ configPath, config, proposer });
 */
export class AgentProposer implements Proposer {
  readonly name = 'agent';
  private readonly options: AgentProposerOptions;

  constructor(options: AgentProposerOptions) {
    this.options = options;
  }

  repairTarget(history: readonly TrialSummary[]): { from: TrialSummary; relatedTrialId: number } | undefined {
    return chooseRepair(history, this.options.settings.maxFixAttempts);
  }

  async propose(context: ProposalContext): Promise<Proposal> {
    const { client, settings } = this.options;
    const format = settings.editFormat;
    const files = new ProjectFiles(context.projectDir, context.config.editable);
    const brief = buildBrief(context, files, {
      program: this.options.program,
      format,
      maxTokens: Math.floor(settings.promptTokens * BRIEF_SHARE),
      historyTrials: settings.historyTrials,
    });
    const usage = new AgentUsage();
    const timeout = AbortSignal.timeout(settings.timeoutMs);
    const signal = AbortSignal.any([context.signal, timeout]);
    const repair = context.repairOf !== undefined;
    const common = { client, brief, usage, allowNoChange: repair, trialId: context.trialId, signal };
    let finish;
    try {
      finish =
        format === 'tools'
          ? await runToolLoop({
              ...common,
              scope: { files, history: context.history, metric: context.config.metric.name, goal: context.goal },
              maxSteps: settings.maxSteps,
              maxPromptTokens: settings.promptTokens,
              maxOutputTokens: this.options.maxOutputTokens ?? 4096,
            })
          : await runReplyLoop({ ...common, files, format, retries: this.options.formatRetries ?? 2, maxOutputTokens: this.options.maxOutputTokens ?? 8192 });
    } catch (error) {
      if (timeout.aborted && !context.signal.aborted) {
        throw new ProposalError(`the agent did not finish within research.agent_timeout (${Math.round(settings.timeoutMs / 1000)}s); raise it if proposals need longer`, { cause: error });
      }
      throw error;
    }
    return {
      description: repair && !finish.description.toLowerCase().startsWith('fix') ? `fix #${context.repairOf!.seq}: ${finish.description}` : finish.description,
      meta: {
        hypothesis: finish.hypothesis,
        model: client.name,
        editFormat: format,
        ...usage.toJSON(),
        briefTokens: brief.tokens,
        changed: [...files.written],
        ...(repair ? { repairOf: context.repairOf!.seq } : {}),
      },
    };
  }
}
