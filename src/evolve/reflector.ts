import type { LedgerEvents } from '../ledger/events.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { ModelClient } from '../llm/model-client.ts';
import { buildReflectionPrompt, readReflectionReply, type RejectedAttempt } from './reflection-prompt.ts';
import type { ReflectiveRecord } from './types.ts';

export interface ReflectRequest {
  iteration: number;
  parentIdx: number;
  component: string;
  currentText: string;
  records: readonly ReflectiveRecord[];
  rejected: readonly RejectedAttempt[];
  signal: AbortSignal;
}

export type ReflectOutcome = { text: string } | { reasons: string[] };

/**
 * Asks the reflection model for a new component text, retrying (with the
 * reason) when a reply is unusable. Every reply is recorded; a resumed
 * iteration replays the recorded replies instead of asking again, so its
 * future is the same as if the run had never stopped.
 *
 * @example
 * const reflector = new Reflector({ client, ledger, studyId, maxOutputTokens: 4096, attempts: 2, maxComponentChars: 20000 });
 * const outcome = await reflector.reflect({ iteration: 3, parentIdx: 1, component: 'system_prompt', currentText, records, rejected: [], signal });
 */
export class Reflector {
  private readonly options: {
    client: ModelClient;
    ledger: Ledger;
    studyId: number;
    prompt?: string;
    maxOutputTokens: number;
    attempts: number;
    maxComponentChars: number;
  };
  private readonly replayed = new Map<string, LedgerEvents['evolve.reflection_recorded']>();

  constructor(options: Reflector['options']) {
    this.options = options;
  }

  get client(): ModelClient {
    return this.options.client;
  }

  /** Load the replies recorded for an iteration that did not finish (call once before resuming it). */
  loadReplies(iteration: number): void {
    for (const event of this.options.ledger.evolve.reflections(this.options.studyId)) {
      if (event.iteration === iteration) this.replayed.set(replyKey(event), event);
    }
  }

  async reflect(request: ReflectRequest): Promise<ReflectOutcome> {
    const reasons: string[] = [];
    for (let attempt = 1; attempt <= this.options.attempts; attempt++) {
      const key = replyKey({ ...request, attempt });
      let reply = this.replayed.get(key);
      if (!reply) {
        const prompt = buildReflectionPrompt({
          ...(this.options.prompt !== undefined ? { template: this.options.prompt } : {}),
          component: request.component,
          currentText: request.currentText,
          records: request.records,
          rejected: request.rejected,
          notes: this.options.ledger.oversight.activeNotes(this.options.studyId),
          ...(reasons.length > 0 ? { retryReason: reasons[reasons.length - 1]! } : {}),
        });
        const answer = await this.options.client.call({ role: 'reflection', prompt, maxOutputTokens: this.options.maxOutputTokens, signal: request.signal });
        const verdict = readReflectionReply(answer, request.currentText, this.options.maxComponentChars);
        reply = {
          studyId: this.options.studyId,
          iteration: request.iteration,
          parentIdx: request.parentIdx,
          component: request.component,
          attempt,
          reply: answer.text,
          finishReason: answer.finishReason,
          text: 'text' in verdict ? verdict.text : null,
          reason: 'reason' in verdict ? verdict.reason : null,
        };
        // As stored (the raw reply bounded), so this run and a resumed one hold the same record.
        reply = this.options.ledger.record('evolve.reflection_recorded', reply, { studyId: this.options.studyId });
      }
      if (reply.text !== null) return { text: reply.text };
      reasons.push(reply.reason ?? 'unusable reply');
    }
    return { reasons };
  }
}

function replyKey(event: { iteration: number; parentIdx: number; component: string; attempt: number }): string {
  return `${event.iteration}:${event.parentIdx}:${event.component}:${event.attempt}`;
}
