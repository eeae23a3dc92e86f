import { Ledger } from './ledger.ts';
import type { StudyRecord, TrialRecord } from './records.ts';
import type { TrialQueryStore } from './stores/trial-query-store.ts';
import type { CandidateRecord, EvaluationRecord } from './stores/evolve-store.ts';
import type { LlmCallRecord, RoleSpend } from './stores/llm-store.ts';
import type { GuidanceStampRow } from './stores/oversight-store.ts';

export type { CandidateRecord, EvaluationRecord } from './stores/evolve-store.ts';
export type { LlmCallRecord, RoleSpend } from './stores/llm-store.ts';

/**
 * A read-only view of the ledger for the dashboard and reports. The ledger is
 * opened read-only, so nothing served can change a study (see
 * `Ledger.openForReading` for what happens to one that needs a migration).
 *
 * @example
 * const reader = LedgerReader.open('.strata/ledger.db');
 * for (const study of reader.studies()) console.log(study.name);
 */
export class LedgerReader {
  readonly path: string;
  private readonly ledger: Ledger;

  private constructor(ledger: Ledger) {
    this.ledger = ledger;
    this.path = ledger.path;
  }

  static open(path: string): LedgerReader {
    return new LedgerReader(Ledger.openForReading(path));
  }

  close(): void {
    this.ledger.close();
  }

  /** Changes whenever another connection commits: a cheap "anything new?" check. */
  version(): string {
    return this.ledger.eventLog.changeToken();
  }

  studies(): StudyRecord[] {
    return this.ledger.studies();
  }

  study(id: number): StudyRecord | undefined {
    return this.ledger.studies().find((study) => study.id === id);
  }

  studyByName(name: string): StudyRecord | undefined {
    return this.ledger.studyByName(name);
  }

  trials(studyId: number): TrialRecord[] {
    return this.ledger.trials(studyId);
  }

  /** Counts, sums, pages and chart columns of a study's trials: what a page of a long study reads instead of `trials()`. */
  get trialQueries(): TrialQueryStore {
    return this.ledger.trialQueries;
  }

  trialBySeq(studyId: number, seq: number): TrialRecord | undefined {
    return this.ledger.trialBySeq(studyId, seq);
  }

  /** Sealed holdout results by trial id; empty for a ledger from before they existed. */
  holdouts(studyId: number): Map<number, { status: string; metric: number | null; reason: string | null }> {
    return new Map([...this.ledger.research.holdoutResults(studyId)].map(([id, result]) => [id, { status: result.status, metric: result.metric, reason: result.reason }]));
  }

  /** The program hash and notes each of the study's proposals was made under, in trial order. */
  guidanceStamps(studyId: number): GuidanceStampRow[] {
    return this.ledger.oversight.guidanceStamps(studyId);
  }

  /** Model calls of one trial or one candidate, oldest first. */
  llmCalls(where: { trialId: number } | { candidateId: number }): LlmCallRecord[] {
    return this.ledger.llm.calls(where);
  }

  /** Calls, tokens and USD per role; a call killed before it finished counts at its reservation. */
  spendByRole(studyId: number): RoleSpend[] {
    return this.ledger.llm.spendByRole(studyId);
  }

  /** USD per trial id, or per candidate id, for the study's tables. */
  usdBy(studyId: number, key: 'trial_id' | 'candidate_id'): Map<number, number> {
    return this.ledger.llm.usdBy(studyId, key);
  }

  candidates(studyId: number): CandidateRecord[] {
    return this.ledger.evolve.candidates(studyId);
  }

  /** Per-example scores of the pool's candidates on one split. */
  evaluations(studyId: number, split: string): EvaluationRecord[] {
    return this.ledger.evolve.evaluations(studyId, split);
  }

  /** Events of the given types, oldest first; `omit` drops large payload fields (an engine snapshot) in SQL. */
  events(studyId: number, types: readonly string[], omit: readonly string[] = []): { id: number; type: string; trialId: number | null; payload: unknown; createdAt: string }[] {
    return this.ledger.eventLog.ofTypes(studyId, types, omit);
  }

  /** Candidate, example and score of each evaluation on a split (no feedback): the Pareto front's matrix. */
  scores(studyId: number, split: string): { candidateId: number; exampleId: string; score: number }[] {
    return this.ledger.evolve.scores(studyId, split);
  }

  /** One candidate's evaluations on a split, with their feedback. */
  candidateEvaluations(studyId: number, candidateId: number, split: string): EvaluationRecord[] {
    return this.ledger.evolve.candidateEvaluations(studyId, candidateId, split);
  }

  /** Evaluations per split (metric calls). */
  evaluationCounts(studyId: number): Record<string, number> {
    return this.ledger.evolve.evaluationCounts(studyId);
  }
}
