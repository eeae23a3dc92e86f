import type { LlmConfig } from '../../core/config/llm-config.ts';
import type { ResearchConfig } from '../../core/config/research-config.ts';
import { ProposalError } from '../../core/errors.ts';
import type { Proposer } from '../../core/proposer.ts';
import type { Ledger } from '../../ledger/ledger.ts';

/** Work in progress (issue 3): the agent proposer lands in the next commits. */
export async function openAgentProposer(options: { ledger: Ledger; studyId: number; llm: LlmConfig; research: ResearchConfig; configDir: string; signal: AbortSignal }): Promise<Proposer> {
  void options;
  throw new ProposalError('proposer: agent is being built (issue 3); use proposer: search for now');
}
