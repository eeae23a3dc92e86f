import type { ModelCallResult } from '../../llm/model-client.ts';

/** What one proposal cost: model calls, HTTP attempts, tokens and USD (null when the price is unknown). */
export class AgentUsage {
  calls = 0;
  attempts = 0;
  inputTokens = 0;
  outputTokens = 0;
  usd: number | null = 0;

  add(reply: ModelCallResult): void {
    this.calls++;
    this.attempts += reply.attempts;
    this.inputTokens += reply.inputTokens ?? 0;
    this.outputTokens += reply.outputTokens ?? 0;
    this.usd = this.usd === null || reply.usd === null ? null : this.usd + reply.usd;
  }

  toJSON(): Record<string, number | null> {
    return { calls: this.calls, attempts: this.attempts, inputTokens: this.inputTokens, outputTokens: this.outputTokens, usd: this.usd };
  }
}
