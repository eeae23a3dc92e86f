import type { LedgerEvents } from '../ledger/events.ts';
import type { Ledger } from '../ledger/ledger.ts';
import { spendByRole, spentUsd } from '../llm/call-ledger.ts';
import type { ProposalCounts } from './engine-snapshot.ts';

/** `strata status --json` for an evolve study (snake_case, like the research summary). */
export interface EvolveStatus {
  study: { id: number; name: string; kind: 'evolve'; state: string; stop_reason: string | null; created_at: string; updated_at: string };
  best: { idx: number; val_mean: number; components: Record<string, string> } | null;
  seed_val_mean: number | null;
  iterations: number;
  metric_calls: number;
  proposals: ProposalCounts;
  candidates: {
    idx: number;
    parents: number[];
    origin: string;
    description: string;
    val_mean: number;
    iteration: number;
    found_at_metric_calls: number;
    scores?: Record<string, number>;
  }[];
  recent: { iteration: number; outcome: string; parent: number | null; child: number | null; detail: string }[];
  spend: { usd: number; by_role: ReturnType<typeof spendByRole> };
}

/**
 * A JSON-able summary of an evolve study, read from the ledger alone:
 * candidates with parents and validation means (per-example scores on
 * request), proposal counts, recent iterations, and LLM spend by role.
 *
 * @example
 * const status = evolveStatus(ledger, study.id, { perExample: true });
 */
export function evolveStatus(ledger: Ledger, studyId: number, options: { perExample?: boolean; recent?: number } = {}): EvolveStatus {
  const study = ledger.study(studyId);
  const rows = ledger.db.prepare('SELECT * FROM candidates WHERE study_id = ? ORDER BY idx').all(studyId);
  const candidates = rows.map((row) => {
    const meta = JSON.parse(String(row.meta_json)) as { iteration: number; foundAtMetricCalls: number; valMean: number };
    const entry: EvolveStatus['candidates'][number] = {
      idx: Number(row.idx),
      parents: JSON.parse(String(row.parent_ids_json)) as number[],
      origin: String(row.proposer),
      description: String(row.description ?? ''),
      val_mean: meta.valMean,
      iteration: meta.iteration,
      found_at_metric_calls: meta.foundAtMetricCalls,
    };
    if (options.perExample) {
      const scores = ledger.db.prepare("SELECT example_id, score FROM evaluations WHERE candidate_id = ? AND split = 'val' ORDER BY id").all(Number(row.id));
      entry.scores = Object.fromEntries(scores.map((s) => [String(s.example_id), Number(s.score)]));
    }
    return entry;
  });
  let best: EvolveStatus['best'] = null;
  for (const [i, candidate] of candidates.entries()) {
    if (!best || candidate.val_mean > best.val_mean) best = { idx: candidate.idx, val_mean: candidate.val_mean, components: JSON.parse(String(rows[i]!.components_json)) as Record<string, string> };
  }
  const iterations = ledger.db
    .prepare("SELECT payload_json FROM events WHERE study_id = ? AND type = 'evolve.iteration_finished' ORDER BY id DESC LIMIT ?")
    .all(studyId, options.recent ?? 10)
    .map((row) => JSON.parse(String(row.payload_json)) as LedgerEvents['evolve.iteration_finished']);
  const last = iterations[0];
  const metricCalls = ledger.db.prepare("SELECT COUNT(*) AS n FROM evaluations WHERE study_id = ? AND split != 'test'").get(studyId) as { n: number };
  return {
    study: { id: study.id, name: study.name, kind: 'evolve', state: study.state, stop_reason: study.stopReason, created_at: study.createdAt, updated_at: study.updatedAt },
    best,
    seed_val_mean: candidates[0]?.val_mean ?? null,
    iterations: last?.snapshot.iteration ?? 0,
    metric_calls: Number(metricCalls.n),
    proposals: last?.snapshot.counts ?? { accepted: 0, rejected: 0, skipped: 0, failed: 0, duplicate: 0, mergeAccepted: 0, mergeRejected: 0 },
    candidates,
    recent: iterations
      .filter((e) => e.outcome !== 'seed')
      .map((e) => ({ iteration: e.iteration, outcome: e.outcome, parent: e.parentIdx, child: e.childIdx, detail: e.detail })),
    spend: { usd: spentUsd(ledger, studyId), by_role: spendByRole(ledger, studyId) },
  };
}
