import type { DatabaseSync } from 'node:sqlite';
import type { Split } from '../../core/evolve-state.ts';
import type { LedgerEvents } from '../events.ts';
import { prepared, preparedArrays } from '../prepared.ts';
import type { EventStore } from './event-store.ts';
import { num, parse, text, type Row } from './row.ts';

/** A candidate as stored: a map of named texts with parents (commit candidates have a commit and a diff instead). */
export interface CandidateRecord {
  id: number;
  idx: number;
  kind: 'commit' | 'text';
  parentIds: number[];
  components: Record<string, string> | null;
  contentHash: string;
  description: string | null;
  proposer: string | null;
  diff: string | null;
  meta: Record<string, unknown> | null;
  createdAt: string;
}

/** A candidate of an evolve pool, as the engine and status read it back. */
export interface PoolCandidate {
  id: number;
  idx: number;
  parents: number[];
  components: Record<string, string>;
  contentHash: string;
  origin: 'seed' | 'reflective' | 'merge';
  description: string;
  /** Iteration that made it (0 = the seed). */
  iteration: number;
  foundAtMetricCalls: number;
  /** Its validation mean when it joined. */
  valMean: number;
}

/** One per-example score. */
export interface EvaluationRecord {
  id: number;
  candidateId: number | null;
  split: string;
  exampleId: string;
  score: number;
  feedback: string | null;
  createdAt: string;
}

/** Evolve reads: the pool, per-example scores, metric calls, and the event-only facts a resumed engine needs. */
export class EvolveStore {
  private readonly db: DatabaseSync;
  private readonly events: EventStore;

  constructor(db: DatabaseSync, events: EventStore) {
    this.db = db;
    this.events = events;
  }

  /** The pool's candidates in the order they joined. */
  candidates(studyId: number): CandidateRecord[] {
    return prepared(this.db, 'SELECT * FROM candidates WHERE study_id = ? ORDER BY idx').all(studyId).map(toCandidate);
  }

  /** An evolve study's pool in the order candidates joined it (see the `evolve.candidate_added` projection). */
  pool(studyId: number): PoolCandidate[] {
    return prepared(this.db, 'SELECT * FROM candidates WHERE study_id = ? ORDER BY idx')
      .all(studyId)
      .map((row) => {
        const meta = parse<{ iteration: number; foundAtMetricCalls: number; valMean: number }>(row.meta_json);
        return {
          id: Number(row.id),
          idx: Number(row.idx),
          parents: parse<number[]>(row.parent_ids_json) ?? [],
          components: parse<Record<string, string>>(row.components_json) ?? {},
          contentHash: String(row.content_hash),
          origin: String(row.proposer) as PoolCandidate['origin'],
          description: text(row.description) ?? '',
          iteration: meta?.iteration ?? 0,
          foundAtMetricCalls: meta?.foundAtMetricCalls ?? 0,
          valMean: meta?.valMean ?? 0,
        };
      });
  }

  /** Scores of the pool's candidates on one split, oldest first (evaluations of candidates that never joined are left out). */
  /**
   * Just the scores of the pool's candidates on one split, oldest first (a
   * later score of the same example replaces an earlier one): three columns,
   * for views of 2,000 candidates × 200 examples that need no feedback text.
   */
  scores(studyId: number, split: Split | string): { candidateId: number; exampleId: string; score: number }[] {
    return preparedArrays(this.db, 'SELECT candidate_id, example_id, score FROM evaluations WHERE study_id = ? AND split = ? AND candidate_id IS NOT NULL ORDER BY id')
      .all(studyId, split)
      .map(([candidateId, exampleId, score]) => ({ candidateId: Number(candidateId), exampleId: String(exampleId), score: Number(score) }));
  }

  evaluations(studyId: number, split: Split | string): EvaluationRecord[] {
    return prepared(
      this.db,
      'SELECT id, candidate_id, split, example_id, score, feedback, created_at FROM evaluations WHERE study_id = ? AND split = ? AND candidate_id IS NOT NULL ORDER BY id',
    )
      .all(studyId, split)
      .map(toEvaluation);
  }

  /** One candidate's evaluations on a split, oldest first (its page's feedback column). */
  candidateEvaluations(studyId: number, candidateId: number, split: Split | string): EvaluationRecord[] {
    return prepared(this.db, 'SELECT id, candidate_id, split, example_id, score, feedback, created_at FROM evaluations WHERE study_id = ? AND candidate_id = ? AND split = ? ORDER BY id')
      .all(studyId, candidateId, split)
      .map(toEvaluation);
  }

  /** One candidate's validation scores by example id, in the order they were made. */
  validationScores(candidateId: number): Record<string, number> {
    const rows = prepared(this.db, "SELECT example_id, score FROM evaluations WHERE candidate_id = ? AND split = 'val' ORDER BY id").all(candidateId);
    return Object.fromEntries(rows.map((row) => [String(row.example_id), Number(row.score)]));
  }

  /** Evaluations per split. */
  evaluationCounts(studyId: number): Record<string, number> {
    const rows = prepared(this.db, 'SELECT split, COUNT(*) AS n FROM evaluations WHERE study_id = ? GROUP BY split').all(studyId);
    return Object.fromEntries(rows.map((row) => [String(row.split), Number(row.n)]));
  }

  /** Metric calls spent: every evaluation but the held-out test at the end. */
  metricCalls(studyId: number): number {
    const row = prepared(this.db, "SELECT COUNT(*) AS n FROM evaluations WHERE study_id = ? AND split != 'test'").get(studyId) as { n: number };
    return Number(row.n);
  }

  /** Every recorded evaluation as its event (the evaluation cache loads these, failures included). */
  recordedEvaluations(studyId: number): LedgerEvents['evolve.evaluation_recorded'][] {
    return this.events.payloads(studyId, 'evolve.evaluation_recorded');
  }

  /** Recorded reflection replies, oldest first (a resumed iteration reuses them). */
  reflections(studyId: number): LedgerEvents['evolve.reflection_recorded'][] {
    return this.events.payloads(studyId, 'evolve.reflection_recorded');
  }

  /** The last `limit` finished iterations, newest first. */
  recentIterations(studyId: number, limit: number): LedgerEvents['evolve.iteration_finished'][] {
    return this.events.payloads(studyId, 'evolve.iteration_finished', { newestFirst: true, limit });
  }

  /** The last finished iteration (its snapshot is where a resumed engine continues). */
  lastIteration(studyId: number): LedgerEvents['evolve.iteration_finished'] | undefined {
    return this.events.last(studyId, 'evolve.iteration_finished');
  }
}

function toCandidate(row: Row): CandidateRecord {
  return {
    id: Number(row.id),
    idx: Number(row.idx),
    kind: row.kind === 'commit' ? 'commit' : 'text',
    parentIds: parse<number[]>(row.parent_ids_json) ?? [],
    components: parse<Record<string, string>>(row.components_json),
    contentHash: String(row.content_hash),
    description: text(row.description),
    proposer: text(row.proposer),
    diff: text(row.diff),
    meta: parse<Record<string, unknown>>(row.meta_json),
    createdAt: String(row.created_at),
  };
}

/** One `evaluations` row. */
function toEvaluation(row: Record<string, unknown>): EvaluationRecord {
  return {
    id: Number(row.id),
    candidateId: num(row.candidate_id),
    split: String(row.split),
    exampleId: String(row.example_id),
    score: Number(row.score),
    feedback: text(row.feedback),
    createdAt: String(row.created_at),
  };
}
