import type { ResearchConfig } from '../../core/config/research-config.ts';
import { ProposalError } from '../../core/errors.ts';
import type { Proposer } from '../../core/proposer.ts';

/** Work in progress (issue 3): the command proposer lands in the next commits. */
export class CommandProposer {
  static async open(options: { research: ResearchConfig; configDir: string; transcriptsDir: string }): Promise<Proposer> {
    void options;
    throw new ProposalError('proposer: command is being built (issue 3); use proposer: search for now');
  }
}
