import type { DatabaseSync } from 'node:sqlite';
import type { LedgerEvents } from '../ledger/events.ts';
import type { Ledger } from '../ledger/ledger.ts';

/** What a study's calls cost in USD, in SQL: a call killed before it finished counts at its reservation. */
export const CALL_USD = 'COALESCE(usd, CASE WHEN latency_ms IS NULL THEN reserved_usd ELSE 0 END)';

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
