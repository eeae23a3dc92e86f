import { boundedPayload, type LedgerEvents } from '../ledger/events.ts';
import type { Ledger } from '../ledger/ledger.ts';
import { jsonHash } from './content-hash.ts';
import type { EvaluationResult, Split } from './types.ts';

/** A stored evaluation. */
export interface CachedEvaluation extends EvaluationResult {
  split: Split;
  exampleId: string;
  iteration: number;
  failed: boolean;
}

/**
 * Every evaluation of a study, keyed by (candidate hash, evaluator version,
 * split, example id), traces included so cached parent results still feed
 * reflection. Backed by the ledger's events: a resumed run loads it and
 * evaluates nothing twice.
 *
 * @example
 * const cache = EvaluationCache.load(ledger, studyId, 'v1');
 * cache.get(hash, 'val', 'v3')?.score;
 */
export class EvaluationCache {
  private readonly entries = new Map<string, CachedEvaluation>();
  /** Evaluations recorded per iteration, and how many failed (what oversight's crash_streak reads). */
  private readonly made = new Map<number, { made: number; failed: number }>();
  private readonly ledger: Ledger;
  private readonly studyId: number;
  readonly evaluatorVersion: string;
  private readonly versionKey: string;

  private constructor(ledger: Ledger, studyId: number, evaluatorVersion: string) {
    this.ledger = ledger;
    this.studyId = studyId;
    this.evaluatorVersion = evaluatorVersion;
    this.versionKey = jsonHash(evaluatorVersion).slice(0, 8);
  }

  static load(ledger: Ledger, studyId: number, evaluatorVersion: string): EvaluationCache {
    const cache = new EvaluationCache(ledger, studyId, evaluatorVersion);
    for (const e of ledger.evolve.recordedEvaluations(studyId)) {
      cache.entries.set(e.cacheKey, entryOf(e));
      cache.count(e.iteration, e.failed);
    }
    return cache;
  }

  /** `hash:version:split:id` — readable, and its prefix finds a candidate's rows. */
  key(candidateHash: string, split: Split, exampleId: string): string {
    return `${candidateHash}:${this.versionKey}:${split}:${exampleId}`;
  }

  get(candidateHash: string, split: Split, exampleId: string): CachedEvaluation | undefined {
    return this.entries.get(this.key(candidateHash, split, exampleId));
  }

  /**
   * Store one evaluation in the cache, and in the ledger with the next
   * commit (`Ledger.defer`: evaluations finishing together share one; `flush`
   * commits them now).
   */
  record(candidateHash: string, entry: CachedEvaluation): void {
    const cacheKey = this.key(candidateHash, entry.split, entry.exampleId);
    if (this.entries.has(cacheKey)) return;
    const payload = (evaluationId: number): LedgerEvents['evolve.evaluation_recorded'] => ({
      studyId: this.studyId,
      evaluationId,
      cacheKey,
      candidateHash,
      split: entry.split,
      exampleId: entry.exampleId,
      evaluatorVersion: this.evaluatorVersion,
      score: entry.score,
      objectives: entry.objectives ?? null,
      feedback: entry.feedback ?? null,
      trace: entry.trace ?? null,
      iteration: entry.iteration,
      failed: entry.failed,
    });
    this.ledger.defer(() => {
      this.ledger.record('evolve.evaluation_recorded', payload(this.ledger.nextId('evaluations')), { studyId: this.studyId });
    });
    // What the ledger stores (long feedback and traces bounded), so a resumed run sees exactly what this one does.
    this.entries.set(cacheKey, entryOf(boundedPayload('evolve.evaluation_recorded', payload(0))));
    this.count(entry.iteration, entry.failed);
  }

  /** Commit the evaluations recorded so far. */
  flush(): void {
    this.ledger.flushDeferred();
  }

  /** Evaluations recorded for iteration `iteration` (test scoring is -1), and how many of them failed. */
  madeIn(iteration: number): { made: number; failed: number } {
    return { ...(this.made.get(iteration) ?? { made: 0, failed: 0 }) };
  }

  private count(iteration: number, failed: boolean): void {
    const counts = this.made.get(iteration) ?? { made: 0, failed: 0 };
    counts.made += 1;
    if (failed) counts.failed += 1;
    this.made.set(iteration, counts);
  }

  /** Metric calls made before iteration `iteration` (validation and train; the held-out test is outside the budget). */
  metricCallsBefore(iteration: number): number {
    let count = 0;
    for (const entry of this.entries.values()) if (entry.split !== 'test' && entry.iteration < iteration) count++;
    return count;
  }

  /** All metric calls so far. */
  metricCalls(): number {
    return this.metricCallsBefore(Number.POSITIVE_INFINITY);
  }

  /** Whether an evaluation existed before iteration `iteration` began (so the budget counted it earlier). */
  cachedBefore(candidateHash: string, split: Split, exampleId: string, iteration: number): boolean {
    const entry = this.get(candidateHash, split, exampleId);
    return entry !== undefined && entry.iteration < iteration;
  }
}

function entryOf(e: LedgerEvents['evolve.evaluation_recorded']): CachedEvaluation {
  return {
    split: e.split,
    exampleId: e.exampleId,
    iteration: e.iteration,
    failed: e.failed,
    score: e.score,
    ...(e.feedback !== null ? { feedback: e.feedback } : {}),
    ...(e.trace !== null && e.trace !== undefined ? { trace: e.trace } : {}),
    ...(e.objectives !== null ? { objectives: e.objectives } : {}),
  };
}
