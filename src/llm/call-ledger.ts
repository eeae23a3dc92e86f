import type { LedgerEvents } from '../ledger/events.ts';
import type { Ledger } from '../ledger/ledger.ts';

/** What a call records before it starts. */
export type CallStart = Omit<LedgerEvents['llm.call_started'], 'callId'>;
/** What a call records when it ends. */
export type CallEnd = Omit<LedgerEvents['llm.call_finished'], 'callId'>;

/** Write the start of a call and return its id. */
export function recordCallStarted(ledger: Ledger, start: CallStart): number {
  return ledger.transaction(() => {
    const callId = ledger.nextId('llm_calls');
    ledger.record('llm.call_started', { callId, ...start }, { studyId: start.studyId, trialId: start.trialId });
    return callId;
  });
}

export function recordCallFinished(ledger: Ledger, callId: number, end: CallEnd, studyId: number | null): void {
  ledger.record('llm.call_finished', { callId, ...end }, { studyId });
}
