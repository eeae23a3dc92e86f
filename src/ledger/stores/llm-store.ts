import type { DatabaseSync } from 'node:sqlite';
import { prepared } from '../prepared.ts';
import { num, text, type Row } from './row.ts';

/** What a call cost in USD, in SQL: a call killed before it finished counts at its reservation (it may well have been billed). */
export const CALL_USD = 'COALESCE(usd, CASE WHEN latency_ms IS NULL THEN reserved_usd ELSE 0 END)';

/** One role's share of a study's model calls. */
export interface RoleSpend {
  role: string;
  calls: number;
  errors: number;
  inputTokens: number;
  outputTokens: number;
  usd: number;
}

/** One model call as the dashboard shows it. */
export interface LlmCallRecord {
  id: number;
  trialId: number | null;
  candidateId: number | null;
  role: string;
  model: string;
  inputTokens: number | null;
  outputTokens: number | null;
  /** What the call cost; a call killed before it finished counts at its reservation. */
  usd: number | null;
  latencyMs: number | null;
  finishReason: string | null;
  error: string | null;
  request: string | null;
  responseText: string | null;
  createdAt: string;
}

/** Reads of the model calls: spend (one definition of what a call cost) and the calls themselves. */
export class LlmStore {
  private readonly db: DatabaseSync;

  constructor(db: DatabaseSync) {
    this.db = db;
  }

  /** USD spent by a study so far; unfinished calls count at their reservation. */
  spentUsd(studyId: number): number {
    const row = prepared(this.db, `SELECT COALESCE(SUM(${CALL_USD}), 0) AS spent FROM llm_calls WHERE study_id = ?`).get(studyId) as { spent: number };
    return Number(row.spent);
  }

  /** Per-role call counts, tokens and spend. */
  spendByRole(studyId: number): RoleSpend[] {
    return prepared(
      this.db,
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

  /** USD per trial id, or per candidate id, of a study's calls. */
  usdBy(studyId: number, key: 'trial_id' | 'candidate_id'): Map<number, number> {
    const rows = prepared(this.db, `SELECT ${key} AS id, COALESCE(SUM(${CALL_USD}), 0) AS usd FROM llm_calls WHERE study_id = ? AND ${key} IS NOT NULL GROUP BY ${key}`).all(studyId);
    return new Map(rows.map((row) => [Number(row.id), Number(row.usd)]));
  }

  /** Model calls of one trial or one candidate (or a whole study), oldest first. */
  calls(where: { trialId: number } | { candidateId: number } | { studyId: number }): LlmCallRecord[] {
    const [column, id] = 'trialId' in where ? ['trial_id', where.trialId] : 'candidateId' in where ? ['candidate_id', where.candidateId] : ['study_id', where.studyId];
    return prepared(this.db, `SELECT * FROM llm_calls WHERE ${column} = ? ORDER BY id`).all(id).map(toLlmCall);
  }
}

function toLlmCall(row: Row): LlmCallRecord {
  const finished = row.latency_ms !== null && row.latency_ms !== undefined;
  return {
    id: Number(row.id),
    trialId: num(row.trial_id),
    candidateId: num(row.candidate_id),
    role: String(row.role),
    model: String(row.model),
    inputTokens: num(row.input_tokens),
    outputTokens: num(row.output_tokens),
    usd: row.usd !== null && row.usd !== undefined ? Number(row.usd) : finished ? null : num(row.reserved_usd),
    latencyMs: num(row.latency_ms),
    finishReason: text(row.finish_reason),
    error: text(row.error),
    request: text(row.request_json),
    responseText: text(row.response_text),
    createdAt: String(row.created_at),
  };
}
