import type { DatabaseSync } from 'node:sqlite';
import type { LedgerEvents } from '../ledger/events.ts';
import type { Ledger } from '../ledger/ledger.ts';
import { registerProjection } from '../ledger/projections.ts';

/** What a study's calls cost in USD, in SQL: a call killed before it finished counts at its reservation. */
export const CALL_USD = 'COALESCE(usd, CASE WHEN latency_ms IS NULL THEN reserved_usd ELSE 0 END)';

declare module '../ledger/events.ts' {
  interface LedgerEvents {
    /** A model call is about to be made; its worst-case cost is reserved. */
    'llm.call_started': {
      callId: number;
      studyId: number | null;
      trialId: number | null;
      candidateId: number | null;
      role: string;
      model: string;
      reservedUsd: number | null;
      request: unknown;
    };
    /** The call ended (well or not). `usd` null = price unknown. */
    'llm.call_finished': {
      callId: number;
      inputTokens: number | null;
      outputTokens: number | null;
      usd: number | null;
      latencyMs: number;
      finishReason: string | null;
      error: string | null;
      responseText: string | null;
    };
  }
}

registerProjection('llm.call_started', (db, e, at) => {
  db.prepare(
    `INSERT INTO llm_calls (id, study_id, trial_id, candidate_id, role, model, reserved_usd, request_json, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(e.callId, e.studyId, e.trialId, e.candidateId, e.role, e.model, e.reservedUsd, e.request === null ? null : JSON.stringify(e.request), at);
});

registerProjection('llm.call_finished', (db, e) => {
  db.prepare(
    `UPDATE llm_calls SET input_tokens = ?, output_tokens = ?, usd = ?, latency_ms = ?, finish_reason = ?, error = ?, response_text = ? WHERE id = ?`,
  ).run(e.inputTokens, e.outputTokens, e.usd, e.latencyMs, e.finishReason, e.error, e.responseText, e.callId);
});

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

/**
 * USD spent by a study so far. A call that started but never finished (the
 * process was killed) counts at its reservation: it may well have been billed.
 *
 * @example
 * const budget = new UsdBudget(config.maxUsd ?? null, spentUsd(ledger, study.id));
 */
export function spentUsd(ledger: Ledger, studyId: number): number {
  const row = ledger.db
    .prepare(`SELECT COALESCE(SUM(${CALL_USD}), 0) AS spent FROM llm_calls WHERE study_id = ?`)
    .get(studyId) as { spent: number };
  return Number(row.spent);
}

/** One role's share of a study's model calls. */
export interface RoleSpend {
  role: string;
  calls: number;
  errors: number;
  inputTokens: number;
  outputTokens: number;
  usd: number;
}

/** Per-role call counts, tokens and spend, for `strata status` and the dashboard (any open ledger database, read-only included). */
export function spendByRole(source: Ledger | DatabaseSync, studyId: number): RoleSpend[] {
  const db = 'db' in source ? source.db : source;
  return db
    .prepare(
      `SELECT role, COUNT(*) AS calls, SUM(error IS NOT NULL) AS errors, COALESCE(SUM(input_tokens), 0) AS input_tokens,
         COALESCE(SUM(output_tokens), 0) AS output_tokens, COALESCE(SUM(${CALL_USD}), 0) AS usd
       FROM llm_calls WHERE study_id = ? GROUP BY role ORDER BY role`,
    )
    .all(studyId)
    .map((row) => ({
      role: String(row.role),
      calls: Number(row.calls),
      errors: Number(row.errors),
      inputTokens: Number(row.input_tokens),
      outputTokens: Number(row.output_tokens),
      usd: Number(row.usd),
    }));
}
