import type { StudyRecord } from '../../ledger/records.ts';
import type { LedgerReader, LlmCallRecord } from '../../ledger/ledger-reader.ts';
import { researchMetric, trialRow, type ResearchTrialView } from './research-view.ts';

/** One model call as the trial and candidate pages list it. */
export interface LlmCallView {
  id: number;
  role: string;
  model: string;
  input_tokens: number | null;
  output_tokens: number | null;
  usd: number | null;
  latency_ms: number | null;
  finish_reason: string | null;
  error: string | null;
  request: string | null;
  response: string | null;
  created_at: string;
}

/** Everything the trial page shows. */
export interface TrialDetailView {
  study: { id: number; name: string; kind: string; state: string };
  metric: { name: string; goal: string };
  trial: ResearchTrialView & {
    metrics: Record<string, number> | null;
    params: Record<string, unknown> | null;
    /** Proposer notes and, once the integrity layer writes them, acceptance details (test, p-value, reruns). */
    meta: Record<string, unknown> | null;
    exit_code: number | null;
    signal: string | null;
    budget_s: number | null;
    queued_at: string;
    has_log: boolean;
  };
  diff: string | null;
  log_tail: string | null;
  llm_calls: LlmCallView[];
  neighbors: { previous: number | null; next: number | null };
}

export function llmCallView(call: LlmCallRecord): LlmCallView {
  return {
    id: call.id,
    role: call.role,
    model: call.model,
    input_tokens: call.inputTokens,
    output_tokens: call.outputTokens,
    usd: call.usd,
    latency_ms: call.latencyMs,
    finish_reason: call.finishReason,
    error: call.error,
    request: call.request,
    response: call.responseText,
    created_at: call.createdAt,
  };
}

/**
 * The trial page's data, or undefined when the study has no trial `seq`.
 *
 * @example
 * trialDetailView(reader, study, 3)?.diff;
 */
export function trialDetailView(reader: LedgerReader, study: StudyRecord, seq: number): TrialDetailView | undefined {
  const trial = reader.trialBySeq(study.id, seq);
  if (!trial) return undefined;
  const metric = researchMetric(study);
  const calls = reader.llmCalls({ trialId: trial.id }).map(llmCallView);
  const usd = calls.reduce((sum, call) => sum + (call.usd ?? 0), 0);
  const seqs = reader.trials(study.id).map((other) => other.seq);
  const index = seqs.indexOf(seq);
  return {
    study: { id: study.id, name: study.name, kind: study.kind, state: study.state },
    metric,
    trial: {
      ...trialRow(trial, metric, usd, reader.holdouts(study.id).get(trial.id)),
      metrics: trial.metrics,
      params: trial.params,
      meta: trial.meta,
      exit_code: trial.exitCode,
      signal: trial.signal,
      budget_s: trial.budgetMs === null ? null : trial.budgetMs / 1000,
      queued_at: trial.queuedAt,
      has_log: trial.logPath !== null,
    },
    diff: trial.diff,
    log_tail: trial.logTail,
    llm_calls: calls,
    neighbors: { previous: index > 0 ? seqs[index - 1]! : null, next: index >= 0 && index < seqs.length - 1 ? seqs[index + 1]! : null },
  };
}
