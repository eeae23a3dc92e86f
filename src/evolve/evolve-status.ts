import type { Ledger } from '../ledger/ledger.ts';
import type { RoleSpend } from '../ledger/stores/llm-store.ts';
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
  spend: { usd: number; by_role: RoleSpend[] };
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
  const pool = ledger.evolve.pool(studyId);
  const candidates = pool.map((row) => {
    const entry: EvolveStatus['candidates'][number] = {
      idx: row.idx,
      parents: row.parents,
      origin: row.origin,
      description: row.description,
      val_mean: row.valMean,
      iteration: row.iteration,
      found_at_metric_calls: row.foundAtMetricCalls,
    };
    if (options.perExample) entry.scores = ledger.evolve.validationScores(row.id);
    return entry;
  });
  let best: EvolveStatus['best'] = null;
  for (const [i, candidate] of candidates.entries()) {
    if (!best || candidate.val_mean > best.val_mean) best = { idx: candidate.idx, val_mean: candidate.val_mean, components: pool[i]!.components };
  }
  const iterations = ledger.evolve.recentIterations(studyId, options.recent ?? 10);
  const last = iterations[0];
  const metricCalls = { n: ledger.evolve.metricCalls(studyId) };
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
    spend: { usd: ledger.llm.spentUsd(studyId), by_role: ledger.llm.spendByRole(studyId) },
  };
}
