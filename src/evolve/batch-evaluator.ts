import { BudgetExhaustedError, errorMessage } from '../core/errors.ts';
import { hashString } from '../core/random.ts';
import { LlmCallError, LlmUnavailableError } from '../llm/errors.ts';
import type { CachedEvaluation, EvaluationCache } from './evaluation-cache.ts';
import type { Candidate, Evaluate, EvaluationResult, Split, StudyBinding } from './types.ts';

/** One example's result in a batch, in the batch's order. */
export interface BatchResult extends CachedEvaluation {
  /** True when it came from the cache (no metric call now). */
  cached: boolean;
}

export interface BatchRequest<E> {
  candidate: Candidate;
  hash: string;
  split: Split;
  ids: readonly string[];
  examples: ReadonlyMap<string, E>;
  iteration: number;
  /**
   * Record failed evaluations only once an example of the batch has scored:
   * a batch in which every example failed is returned but left out of the
   * cache, so an evaluator fixed after it is run again (the seed's scoring,
   * where such a batch stops the study).
   */
  holdFailures?: boolean;
}

export interface BatchEvaluatorDeps<E> {
  evaluate: Evaluate<E>;
  cache: EvaluationCache;
  concurrency: number;
  randomSeed: number;
  study: StudyBinding;
}

/**
 * Evaluate a candidate on a list of examples: cached ones are read back,
 * the rest run in parallel up to the concurrency limit and are recorded as
 * they finish. An evaluator that throws, or returns something that is not a
 * storable result, scores 0 with the reason as feedback (`failed: true`);
 * only a spent budget, an unavailable model or an abort stop the batch
 * (after the evaluations in flight have been recorded).
 *
 * @example
 * const results = await evaluateBatch(deps, { candidate, hash, split: 'val', ids: valIds, examples, iteration: 0 }, signal);
 */
export async function evaluateBatch<E>(deps: BatchEvaluatorDeps<E>, request: BatchRequest<E>, signal: AbortSignal): Promise<BatchResult[]> {
  const results: (BatchResult | undefined)[] = request.ids.map((id) => {
    const hit = deps.cache.get(request.hash, request.split, id);
    return hit ? { ...hit, cached: true } : undefined;
  });
  const pending = request.ids.map((id, index) => ({ id, index })).filter(({ index }) => results[index] === undefined);
  if (pending.length === 0) return results as BatchResult[];

  const batch = new AbortController();
  const onAbort = () => batch.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  let fatal: unknown;
  let next = 0;
  const held: CachedEvaluation[] = [];
  const worker = async () => {
    while (fatal === undefined && !batch.signal.aborted && next < pending.length) {
      const { id, index } = pending[next++]!;
      try {
        const entry = await evaluateOne(deps, request, id, batch.signal);
        if (entry.failed && request.holdFailures) held.push(entry);
        else deps.cache.record(request.hash, entry);
        results[index] = { ...entry, cached: false };
      } catch (error) {
        if (fatal === undefined) fatal = error;
        batch.abort(error);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(deps.concurrency, pending.length) }, worker));
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  if (held.length > 0 && results.some((result) => result !== undefined && !result.failed)) {
    for (const entry of held) deps.cache.record(request.hash, entry);
  }
  // Whatever reads the ledger after a batch (oversight's spend, status, a resume) sees all of it.
  deps.cache.flush();
  if (fatal !== undefined) throw fatal;
  if (signal.aborted) throw signal.reason;
  return results as BatchResult[];
}

async function evaluateOne<E>(deps: BatchEvaluatorDeps<E>, request: BatchRequest<E>, id: string, signal: AbortSignal): Promise<CachedEvaluation> {
  const example = request.examples.get(id);
  if (example === undefined) throw new RangeError(`no ${request.split} example with id ${id}`);
  const context = {
    split: request.split,
    exampleId: id,
    seed: hashString(`${deps.randomSeed}:${request.hash}:${request.split}:${id}`),
    signal,
    study: deps.study,
  };
  let result: EvaluationResult;
  let failed = false;
  try {
    // A stop waits for evaluations in flight: an evaluator winding down on the signal (a nested study pausing) must finish doing so.
    result = await deps.evaluate(request.candidate, example, context);
    checkResult(result);
  } catch (error) {
    if (stopsEvaluation(error, signal)) throw error;
    // One broken example must not end a long run: it scores 0 and the reflector sees why.
    result = { score: 0, feedback: `evaluation failed: ${errorMessage(error)}` };
    failed = true;
  }
  const entry: CachedEvaluation = {
    split: request.split,
    exampleId: id,
    iteration: request.iteration,
    failed,
    score: result.score,
    ...(result.feedback !== undefined ? { feedback: String(result.feedback) } : {}),
    ...(result.trace !== undefined ? { trace: result.trace } : {}),
    ...(result.objectives !== undefined ? { objectives: result.objectives } : {}),
  };
  return entry;
}

/** Throws, saying what is wrong, unless `result` is a result the cache can store and the fronts can use. */
function checkResult(result: EvaluationResult): void {
  const expected = 'expected { score: <finite number>, feedback?, trace?, objectives?: { name: <finite number> } }';
  if (result === null || typeof result !== 'object' || typeof result.score !== 'number' || !Number.isFinite(result.score)) {
    throw new TypeError(`the evaluator returned ${describe(result)}; ${expected}`);
  }
  const { objectives } = result;
  if (objectives !== undefined) {
    const bad =
      objectives === null || typeof objectives !== 'object' || Array.isArray(objectives)
        ? 'objectives'
        : Object.entries(objectives).find(([, value]) => typeof value !== 'number' || !Number.isFinite(value))?.[0];
    if (bad !== undefined) throw new TypeError(`the evaluator returned ${bad === 'objectives' ? 'objectives' : `objective "${bad}"`} that is not a finite number (${describe(objectives)}); ${expected}`);
  }
  try {
    JSON.stringify(result.trace);
  } catch (error) {
    throw new TypeError(`the evaluator returned a trace that cannot be stored as JSON (${errorMessage(error)}); return plain data in trace`);
  }
}

/** A short view of what an evaluator returned, for its failure's feedback. */
function describe(value: unknown): string {
  try {
    // NaN and Infinity print as null in JSON: name them, they are the usual culprits.
    const text = JSON.stringify(value, (_key, item: unknown) => (typeof item === 'number' && !Number.isFinite(item) ? String(item) : item));
    return text === undefined ? String(value) : text.slice(0, 200);
  } catch {
    return String(value); // circular or BigInt: the plain string view still says what it was
  }
}

/**
 * Errors that stop the batch instead of scoring one example 0: a stop, a
 * spent budget, a model that stays unavailable, a key the provider refuses
 * (every later call would fail too, and cached zeros would outlive the fix).
 */
export function stopsEvaluation(error: unknown, signal: AbortSignal): boolean {
  return (
    signal.aborted ||
    error instanceof BudgetExhaustedError ||
    error instanceof LlmUnavailableError ||
    (error instanceof LlmCallError && (error.status === 401 || error.status === 403))
  );
}
