/**
 * Model-call events: a call's start (with its reserved worst-case cost) and
 * its end, projected into `llm_calls`.
 */
import { boundJson, boundNullable, TEXT_LIMITS } from '../bounded-text.ts';
import { prepared } from '../prepared.ts';
import { json, type PayloadBounds, type Projections } from './projection.ts';

export interface LlmEvents {
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

export const llmProjections: Projections<LlmEvents> = {
  'llm.call_started': (db, e, at) => {
    prepared(
      db,
      `INSERT INTO llm_calls (id, study_id, trial_id, candidate_id, role, model, reserved_usd, request_json, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(e.callId, e.studyId, e.trialId, e.candidateId, e.role, e.model, e.reservedUsd, json(e.request), at);
  },
  'llm.call_finished': (db, e) => {
    prepared(db, `UPDATE llm_calls SET input_tokens = ?, output_tokens = ?, usd = ?, latency_ms = ?, finish_reason = ?, error = ?, response_text = ? WHERE id = ?`).run(
      e.inputTokens,
      e.outputTokens,
      e.usd,
      e.latencyMs,
      e.finishReason,
      e.error,
      e.responseText,
      e.callId,
    );
  },
};

export const llmBounds: PayloadBounds<LlmEvents> = {
  'llm.call_started': (e) => ({ ...e, request: boundJson(e.request, TEXT_LIMITS.request) }),
  'llm.call_finished': (e) => ({ ...e, responseText: boundNullable(e.responseText, TEXT_LIMITS.modelText), error: boundNullable(e.error, TEXT_LIMITS.reason) }),
};
