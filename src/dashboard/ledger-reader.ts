import { existsSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { LedgerError } from '../core/errors.ts';
import { toStudy, toTrial, type StudyRecord, type TrialRecord } from '../ledger/records.ts';
import { CALL_USD, spendByRole, type RoleSpend } from '../llm/call-ledger.ts';

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

/** An evolve candidate: a map of named texts with parents. */
export interface CandidateRecord {
  id: number;
  idx: number;
  kind: 'commit' | 'text';
  parentIds: number[];
  components: Record<string, string> | null;
  description: string | null;
  proposer: string | null;
  diff: string | null;
  meta: Record<string, unknown> | null;
  createdAt: string;
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

type Row = Record<string, unknown>;
/** A call's cost: what it was billed, or its reservation when it never finished (it may well have been billed). */
const text = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));
const num = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));
const parse = <T>(value: unknown): T | null => (typeof value === 'string' && value !== '' ? (JSON.parse(value) as T) : null);

/**
 * A read-only view of the ledger for the dashboard and reports. The
 * connection is opened read-only, so nothing served can change a study.
 *
 * @example
 * const reader = LedgerReader.open('.strata/ledger.db');
 * for (const study of reader.studies()) console.log(study.name);
 */
export class LedgerReader {
  readonly path: string;
  private readonly db: DatabaseSync;

  private constructor(db: DatabaseSync, path: string) {
    this.db = db;
    this.path = path;
  }

  static open(path: string): LedgerReader {
    if (!existsSync(path)) throw new LedgerError(`no ledger at ${path}: run \`strata research\` (or \`strata optimize\`) in this repository first`, { details: { path } });
    let db: DatabaseSync;
    try {
      db = new DatabaseSync(path, { readOnly: true });
      db.exec('PRAGMA busy_timeout = 5000');
    } catch (error) {
      throw new LedgerError(`cannot open the ledger at ${path}: ${(error as Error).message}`, { cause: error, details: { path } });
    }
    return new LedgerReader(db, path);
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }

  /** Changes whenever another connection commits (SQLite's data_version): a cheap "anything new?" check. */
  version(): string {
    const data = this.db.prepare('PRAGMA data_version').get() as { data_version: number };
    const last = this.db.prepare('SELECT COALESCE(MAX(id), 0) AS id FROM events').get() as { id: number };
    return `${data.data_version}:${last.id}`;
  }

  studies(): StudyRecord[] {
    return this.db.prepare('SELECT * FROM studies ORDER BY id').all().map(toStudy);
  }

  study(id: number): StudyRecord | undefined {
    const row = this.db.prepare('SELECT * FROM studies WHERE id = ?').get(id);
    return row ? toStudy(row) : undefined;
  }

  studyByName(name: string): StudyRecord | undefined {
    const row = this.db.prepare('SELECT * FROM studies WHERE name = ?').get(name);
    return row ? toStudy(row) : undefined;
  }

  trials(studyId: number): TrialRecord[] {
    return this.db.prepare('SELECT * FROM trials WHERE study_id = ? ORDER BY seq').all(studyId).map(toTrial);
  }

  trialBySeq(studyId: number, seq: number): TrialRecord | undefined {
    const row = this.db.prepare('SELECT * FROM trials WHERE study_id = ? AND seq = ?').get(studyId, seq);
    return row ? toTrial(row) : undefined;
  }

  /**
   * Sealed holdout results by trial id (the integrity layer keeps them in a
   * table of their own); empty for a ledger from before that table existed.
   */
  holdouts(studyId: number): Map<number, { status: string; metric: number | null; reason: string | null }> {
    const exists = this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'holdout_results'").get();
    if (!exists) return new Map();
    const rows = this.db.prepare('SELECT trial_id, status, metric, reason FROM holdout_results WHERE study_id = ?').all(studyId);
    return new Map(rows.map((row) => [Number(row.trial_id), { status: String(row.status), metric: num(row.metric), reason: text(row.reason) }]));
  }

  /** Model calls of one trial or one candidate, oldest first. */
  llmCalls(where: { trialId: number } | { candidateId: number }): LlmCallRecord[] {
    const [column, id] = 'trialId' in where ? ['trial_id', where.trialId] : ['candidate_id', where.candidateId];
    return this.db.prepare(`SELECT * FROM llm_calls WHERE ${column} = ? ORDER BY id`).all(id).map(toLlmCall);
  }

  /** Calls, tokens and USD per role; a call killed before it finished counts at its reservation. */
  spendByRole(studyId: number): RoleSpend[] {
    return spendByRole(this.db, studyId);
  }


  /** USD per trial id, or per candidate id, for the study's tables. */
  usdBy(studyId: number, key: 'trial_id' | 'candidate_id'): Map<number, number> {
    const rows = this.db
      .prepare(`SELECT ${key} AS id, COALESCE(SUM(${CALL_USD}), 0) AS usd FROM llm_calls WHERE study_id = ? AND ${key} IS NOT NULL GROUP BY ${key}`)
      .all(studyId);
    return new Map(rows.map((row) => [Number(row.id), Number(row.usd)]));
  }

  candidates(studyId: number): CandidateRecord[] {
    return this.db.prepare('SELECT * FROM candidates WHERE study_id = ? ORDER BY idx').all(studyId).map(toCandidate);
  }

  /** Per-example scores of the pool's candidates on one split. */
  evaluations(studyId: number, split: string): EvaluationRecord[] {
    return this.db
      .prepare('SELECT id, candidate_id, split, example_id, score, feedback, created_at FROM evaluations WHERE study_id = ? AND split = ? AND candidate_id IS NOT NULL ORDER BY id')
      .all(studyId, split)
      .map((row) => ({
        id: Number(row.id),
        candidateId: num(row.candidate_id),
        split: String(row.split),
        exampleId: String(row.example_id),
        score: Number(row.score),
        feedback: text(row.feedback),
        createdAt: String(row.created_at),
      }));
  }

  /**
   * Events of the given types, oldest first, for loop-specific details such as
   * evolve iterations. `omit` drops large payload fields (an engine snapshot) in SQL.
   */
  events(studyId: number, types: readonly string[], omit: readonly string[] = []): { id: number; type: string; trialId: number | null; payload: unknown; createdAt: string }[] {
    const payload = omit.length ? `json_remove(payload_json, ${omit.map(() => '?').join(', ')})` : 'payload_json';
    const rows = this.db
      .prepare(`SELECT id, type, trial_id, ${payload} AS payload_json, created_at FROM events WHERE study_id = ? AND type IN (${types.map(() => '?').join(', ')}) ORDER BY id`)
      .all(...omit.map((field) => `$.${field}`), studyId, ...types);
    return rows.map((row) => ({ id: Number(row.id), type: String(row.type), trialId: num(row.trial_id), payload: parse(row.payload_json), createdAt: String(row.created_at) }));
  }

  /** Evaluations per split (metric calls). */
  evaluationCounts(studyId: number): Record<string, number> {
    const rows = this.db.prepare('SELECT split, COUNT(*) AS n FROM evaluations WHERE study_id = ? GROUP BY split').all(studyId);
    return Object.fromEntries(rows.map((row) => [String(row.split), Number(row.n)]));
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

function toCandidate(row: Row): CandidateRecord {
  return {
    id: Number(row.id),
    idx: Number(row.idx),
    kind: row.kind === 'commit' ? 'commit' : 'text',
    parentIds: parse<number[]>(row.parent_ids_json) ?? [],
    components: parse<Record<string, string>>(row.components_json),
    description: text(row.description),
    proposer: text(row.proposer),
    diff: text(row.diff),
    meta: parse<Record<string, unknown>>(row.meta_json),
    createdAt: String(row.created_at),
  };
}
