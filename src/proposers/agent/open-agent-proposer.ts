import type { LlmConfig } from '../../core/config/llm-config.ts';
import type { ResearchConfig } from '../../core/config/research-config.ts';
import type { Ledger } from '../../ledger/ledger.ts';
import { ModelClient } from '../../llm/model-client.ts';
import { UsdBudget } from '../../llm/usd-budget.ts';
import { AgentProposer } from './agent-proposer.ts';
import { loadProgram } from './research-program.ts';

export interface OpenAgentProposerOptions {
  ledger: Ledger;
  studyId: number;
  llm: LlmConfig;
  research: ResearchConfig;
  /** The folder holding strata.yaml (research.program is relative to it). */
  configDir: string;
  signal: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

/**
 * The agent proposer a config describes, proven ready before the study runs a
 * trial: the program file exists, the provider and key resolve (a missing key
 * names its variable), and one cheap call shows the endpoint knows the model.
 * Spend resumes from the ledger, so `llm.max_usd` caps the study across runs.
 *
 * @example
 * const proposer = await openAgentProposer({ ledger, studyId, llm: config.llm!, research: config.research!, configDir, signal });
 */
export async function openAgentProposer(options: OpenAgentProposerOptions): Promise<AgentProposer> {
  const { llm, research } = options;
  const program = loadProgram(research, options.configDir);
  const client = new ModelClient({
    model: llm.model,
    ledger: options.ledger,
    studyId: options.studyId,
    budget: new UsdBudget(llm.maxUsd ?? null, options.ledger.llm.spentUsd(options.studyId)),
    timeoutMs: llm.timeoutMs,
    retry: { maxRetries: llm.maxRetries },
    ...(options.env ? { env: options.env } : {}),
  });
  await client.check(options.signal);
  return new AgentProposer({ client, program, settings: research.agent });
}
