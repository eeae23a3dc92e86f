/**
 * Evolve events: per-example evaluations (also the evaluation cache),
 * reflection replies, candidates joining the pool, and the end of each
 * iteration with the snapshot a resumed run continues from.
 */
import type { EngineSnapshot, IterationOutcome, Split } from '../../core/evolve-state.ts';
import { boundJson, boundNullable, boundText, TEXT_LIMITS } from '../bounded-text.ts';
import { prepared } from '../prepared.ts';
import { eventOnly, json, type PayloadBounds, type Projections } from './projection.ts';

export interface EvolveEvents {
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

export const evolveProjections: Projections<EvolveEvents> = {
  'evolve.evaluation_recorded': (db, e, at) => {
    const owner = prepared(db, 'SELECT id FROM candidates WHERE study_id = ? AND content_hash = ?').get(e.studyId, e.candidateHash) as { id: number } | undefined;
    prepared(
      db,
      `INSERT INTO evaluations (id, study_id, candidate_id, cache_key, split, example_id, evaluator_version, score, objectives_json, feedback, trace_json, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(e.evaluationId, e.studyId, owner?.id ?? null, e.cacheKey, e.split, e.exampleId, e.evaluatorVersion, e.score, json(e.objectives), e.feedback, json(e.trace), at);
  },
  // Replies and iteration snapshots live in the event log only.
  'evolve.reflection_recorded': eventOnly,
  'evolve.iteration_finished': eventOnly,
  'evolve.candidate_added': (db, e, at) => {
    prepared(
      db,
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
    prepared(db, 'UPDATE evaluations SET candidate_id = ? WHERE study_id = ? AND cache_key >= ? AND cache_key < ?').run(
      e.candidateId,
      e.studyId,
      `${e.contentHash}:`,
      `${e.contentHash};`,
    );
    if (e.isBest) prepared(db, 'UPDATE studies SET best_candidate_id = ?, updated_at = ? WHERE id = ?').run(e.candidateId, at, e.studyId);
  },
};

export const evolveBounds: PayloadBounds<EvolveEvents> = {
  'evolve.evaluation_recorded': (e) => ({ ...e, feedback: boundNullable(e.feedback, TEXT_LIMITS.feedback), trace: boundJson(e.trace, TEXT_LIMITS.trace) }),
  // A resumed iteration reuses a reply's verdict (`text`, `reason`), never the raw reply, so the reply can be cut;
  // `text` is the new component itself, already bounded by max_component_chars, and is kept whole.
  'evolve.reflection_recorded': (e) => ({ ...e, reply: boundText(e.reply, TEXT_LIMITS.modelText), reason: boundNullable(e.reason, TEXT_LIMITS.reason) }),
  'evolve.iteration_finished': (e) => ({ ...e, detail: boundText(e.detail, TEXT_LIMITS.reason) }),
  'evolve.candidate_added': (e) => ({ ...e, description: boundText(e.description, TEXT_LIMITS.description) }),
};
