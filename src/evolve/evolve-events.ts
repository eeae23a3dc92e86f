import { registerProjection } from '../ledger/projections.ts';
import type { EngineSnapshot } from './engine-snapshot.ts';
import type { IterationOutcome, Split } from './types.ts';

declare module '../ledger/events.ts' {
  interface LedgerEvents {
    /** One example evaluated (a metric call); also the evaluation cache. */
    'evolve.evaluation_recorded': {
      studyId: number;
      evaluationId: number;
      cacheKey: string;
      candidateHash: string;
      split: Split;
      exampleId: string;
      evaluatorVersion: string;
      score: number;
      objectives: Record<string, number> | null;
      feedback: string | null;
      trace: unknown;
      /** Iteration that made it (0 = seed, -1 = the held-out test at the end). */
      iteration: number;
      failed: boolean;
    };
    /** A reflection reply, kept so a resumed iteration reuses it instead of asking again. */
    'evolve.reflection_recorded': {
      studyId: number;
      iteration: number;
      parentIdx: number;
      component: string;
      attempt: number;
      reply: string;
      finishReason: string;
      text: string | null;
      reason: string | null;
    };
    /** A candidate joined the pool (after its full validation). */
    'evolve.candidate_added': {
      studyId: number;
      candidateId: number;
      idx: number;
      parents: number[];
      components: Record<string, string>;
      contentHash: string;
      origin: 'seed' | 'reflective' | 'merge';
      description: string;
      iteration: number;
      foundAtMetricCalls: number;
      valMean: number;
      isBest: boolean;
    };
    /** An iteration ended; `snapshot` is all the engine needs to continue exactly. */
    'evolve.iteration_finished': {
      studyId: number;
      iteration: number;
      outcome: IterationOutcome;
      parentIdx: number | null;
      childIdx: number | null;
      component: string | null;
      detail: string;
      parentScores: number[] | null;
      childScores: number[] | null;
      snapshot: EngineSnapshot;
    };
  }
}

registerProjection('evolve.evaluation_recorded', (db, e, at) => {
  const owner = db.prepare('SELECT id FROM candidates WHERE study_id = ? AND content_hash = ?').get(e.studyId, e.candidateHash) as { id: number } | undefined;
  db.prepare(
    `INSERT INTO evaluations (id, study_id, candidate_id, cache_key, split, example_id, evaluator_version, score, objectives_json, feedback, trace_json, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    e.evaluationId,
    e.studyId,
    owner?.id ?? null,
    e.cacheKey,
    e.split,
    e.exampleId,
    e.evaluatorVersion,
    e.score,
    e.objectives === null ? null : JSON.stringify(e.objectives),
    e.feedback,
    e.trace === undefined || e.trace === null ? null : JSON.stringify(e.trace),
    at,
  );
});

// Replies and iteration snapshots live in the event log only.
registerProjection('evolve.reflection_recorded', () => {});
registerProjection('evolve.iteration_finished', () => {});

registerProjection('evolve.candidate_added', (db, e, at) => {
  db.prepare(
    `INSERT INTO candidates (id, study_id, idx, kind, parent_ids_json, components_json, content_hash, description, proposer, meta_json, created_at)
     VALUES (?, ?, ?, 'text', ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    e.candidateId,
    e.studyId,
    e.idx,
    JSON.stringify(e.parents),
    JSON.stringify(e.components),
    e.contentHash,
    e.description,
    e.origin,
    JSON.stringify({ iteration: e.iteration, foundAtMetricCalls: e.foundAtMetricCalls, valMean: e.valMean }),
    at,
  );
  // Evaluations made before the candidate joined (its minibatch, its validation) now name it.
  db.prepare('UPDATE evaluations SET candidate_id = ? WHERE study_id = ? AND cache_key >= ? AND cache_key < ?').run(
    e.candidateId,
    e.studyId,
    `${e.contentHash}:`,
    `${e.contentHash};`,
  );
  if (e.isBest) db.prepare('UPDATE studies SET best_candidate_id = ?, updated_at = ? WHERE id = ?').run(e.candidateId, at, e.studyId);
});
