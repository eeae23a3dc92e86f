import { existsSync, rmSync } from 'node:fs';
import { BudgetExhaustedError, ConfigError, errorMessage, EvaluatorError, LedgerError } from '../core/errors.ts';
import type { Ledger } from '../ledger/ledger.ts';
import { LlmUnavailableError } from '../llm/errors.ts';
import type { UsdBudget } from '../llm/usd-budget.ts';
import { evaluateBatch, stopsEvaluation, type BatchEvaluatorDeps } from './batch-evaluator.ts';
import { CandidatePool } from './candidate-pool.ts';
import { candidateHash } from './content-hash.ts';
import type { EngineData, NewCandidate, StepContext, StepRecord } from './engine-context.ts';
import { initialSnapshot, type EngineSnapshot } from './engine-snapshot.ts';
import { EvaluationCache, type CachedEvaluation } from './evaluation-cache.ts';
import { mergeStep } from './merge-step.ts';
import type { Reflector } from './reflector.ts';
import { reflectiveStep } from './reflective-step.ts';
import type { Candidate, EngineOptions, EngineOversight, Evaluate, EvolveBudget, EvolveProgress, IterationOutcome, IterationReport, ReflectiveRecord, StopReason } from './types.ts';

export interface EngineDeps<E> {
  ledger: Ledger;
  studyId: number;
  options: EngineOptions;
  budget: EvolveBudget;
  data: EngineData<E>;
  seed: Candidate;
  evaluate: Evaluate<E>;
  reflector: Reflector;
  usd: UsdBudget;
  reflectiveRecord: (example: E, result: CachedEvaluation, component: string) => ReflectiveRecord;
  signal: AbortSignal;
  /** A file whose appearance stops the run after the current iteration (it is removed then). */
  stopFile?: string;
  onProgress?: (progress: EvolveProgress) => void;
  /** Pauses and notifications (src/oversight/evolve-oversight.ts). */
  oversight?: EngineOversight;
}

export interface StopOutcome {
  reason: StopReason;
  detail: string;
}

/**
 * The evolve loop over a study in the ledger. `EvolveEngine.restore` rebuilds
 * the pool, the cache and the last iteration's snapshot from the ledger, so a
 * fresh study and a resumed one run the same code.
 */
export class EvolveEngine<E> {
  readonly pool: CandidatePool;
  readonly cache: EvaluationCache;
  readonly warnings: string[] = [];
  private snapshot: EngineSnapshot;
  private readonly deps: EngineDeps<E>;
  private readonly batch: BatchEvaluatorDeps<E>;

  private constructor(deps: EngineDeps<E>, cache: EvaluationCache, pool: CandidatePool, snapshot: EngineSnapshot) {
    this.deps = deps;
    this.cache = cache;
    this.pool = pool;
    this.snapshot = snapshot;
    this.batch = {
      evaluate: deps.evaluate,
      cache,
      concurrency: deps.options.concurrency,
      randomSeed: deps.options.randomSeed,
      study: { ledger: deps.ledger, studyId: deps.studyId, usd: deps.usd },
    };
  }

  static restore<E>(deps: EngineDeps<E>): EvolveEngine<E> {
    const cache = EvaluationCache.load(deps.ledger, deps.studyId, deps.options.evaluatorVersion);
    const pool = new CandidatePool(deps.options.frontier);
    for (const row of deps.ledger.evolve.pool(deps.studyId)) {
      const hash = row.contentHash;
      const validation = deps.data.valIds.map((id) => {
        const entry = cache.get(hash, 'val', id);
        if (!entry) throw new LedgerError(`the ledger lacks candidate #${row.idx}'s validation score on "${id}": was the validation set changed? Use a new study name`);
        return entry;
      });
      pool.add(
        {
          components: row.components as Candidate,
          parents: row.parents,
          origin: row.origin,
          hash,
          iteration: row.iteration,
          foundAtMetricCalls: row.foundAtMetricCalls,
          description: row.description,
        },
        validation,
      );
    }
    const snapshot = deps.ledger.evolve.lastIteration(deps.studyId)?.snapshot ?? initialSnapshot(deps.options.randomSeed);
    deps.reflector.loadReplies(snapshot.iteration + 1);
    return new EvolveEngine(deps, cache, pool, snapshot);
  }

  get iteration(): number {
    return this.snapshot.iteration;
  }

  get counts(): EngineSnapshot['counts'] {
    return this.snapshot.counts;
  }

  /** Run until a stop condition; returns why it stopped. */
  async run(): Promise<StopOutcome> {
    const { budget } = this.deps;
    const internal = new AbortController();
    const onAbort = () => internal.abort(this.deps.signal.reason);
    this.deps.signal.addEventListener('abort', onAbort, { once: true });
    const timer = budget.maxTimeMs === undefined ? undefined : setTimeout(() => internal.abort(new Error('time')), budget.maxTimeMs);
    const started = Date.now();
    try {
      if (this.pool.size === 0) {
        await this.evaluateSeed(internal.signal);
        await this.report(0, 'seed', null, started, internal.signal);
      }
      for (;;) {
        const stop = this.stopCheck(started, internal.signal);
        if (stop) return stop;
        const work = structuredClone(this.snapshot);
        work.iteration += 1;
        const mergeDue = this.deps.options.merge.enabled && work.merge.due > 0 && work.merge.lastIterationAccepted;
        work.merge.lastIterationAccepted = false;
        const context = this.context(work, internal.signal);
        let step = mergeDue ? await mergeStep(context, work.iteration) : null;
        step ??= await reflectiveStep(context, work.iteration);
        if ('stop' in step) return { reason: step.stop, detail: step.detail };
        const newBest = this.commit(work, step);
        await this.report(work.iteration, step.outcome, newBest, started, internal.signal);
      }
    } catch (error) {
      if (error instanceof BudgetExhaustedError) {
        const reason: StopReason = 'capUsd' in error.details ? 'usd' : 'metric_calls';
        return { reason, detail: error.message };
      }
      if (error instanceof LlmUnavailableError) return { reason: 'llm_unavailable', detail: error.message };
      if (internal.signal.aborted) {
        return this.deps.signal.aborted ? { reason: 'interrupted', detail: 'stopped by the user; run again to resume' } : { reason: 'time', detail: `max_time of ${budget.maxTimeMs}ms reached` };
      }
      throw error;
    } finally {
      if (timer) clearTimeout(timer);
      this.deps.signal.removeEventListener('abort', onAbort);
    }
  }

  /** Score the seed and the best candidate on the held-out test split (outside the metric-call budget). */
  async scoreTest(signal: AbortSignal): Promise<{ seed: number; best: number; bestIdx: number; n: number } | null> {
    const { data } = this.deps;
    if (data.testIds.length === 0 || this.pool.size === 0) return null;
    const bestIdx = this.pool.best().idx;
    const means: Record<number, number> = {};
    try {
      for (const idx of new Set([0, bestIdx])) {
        const member = this.pool.get(idx);
        const results = await evaluateBatch(this.batch, { candidate: member.components, hash: member.hash, split: 'test', ids: data.testIds, examples: data.test, iteration: -1 }, signal);
        means[idx] = results.reduce((total, r) => total + r.score, 0) / results.length;
      }
    } catch (error) {
      if (stopsEvaluation(error, signal)) {
        this.warnings.push(`the held-out test was not scored: ${signal.aborted ? 'stopped by the user; run again to score it' : errorMessage(error)}`);
        return null;
      }
      throw error;
    }
    return { seed: means[0]!, best: means[bestIdx]!, bestIdx, n: data.testIds.length };
  }

  private context(work: EngineSnapshot, signal: AbortSignal): StepContext<E> {
    return {
      options: this.deps.options,
      pool: this.pool,
      cache: this.cache,
      snapshot: work,
      batch: this.batch,
      data: this.deps.data,
      reflector: this.deps.reflector,
      reflectiveRecord: this.deps.reflectiveRecord,
      metricLimit: this.deps.budget.metricCalls ?? null,
      signal,
    };
  }

  private async evaluateSeed(signal: AbortSignal): Promise<void> {
    const { data, budget, seed } = this.deps;
    if (budget.metricCalls !== undefined && budget.metricCalls < data.valIds.length) {
      throw new BudgetExhaustedError(`a budget of ${budget.metricCalls} metric calls cannot even score the seed on ${data.valIds.length} validation examples; raise budget.metric_calls`, {
        metricCalls: budget.metricCalls,
      });
    }
    const hash = candidateHash(seed);
    const validation = await evaluateBatch(this.batch, { candidate: seed, hash, split: 'val', ids: data.valIds, examples: data.val, iteration: 0, holdFailures: true }, signal);
    if (validation.every((entry) => entry.failed)) {
      // Nothing scored means nothing can be compared: running on would spend the budget on zeros. The failures were not cached, so a fixed evaluator runs afresh.
      const first = validation[0]!.feedback?.replace(/^evaluation failed: /, '') ?? 'no reason given';
      throw new EvaluatorError(
        `the evaluator failed on every validation example of the seed (${validation.length} of ${validation.length}), so no candidate can be scored; the first (${validation[0]!.exampleId}): ${first.replaceAll('\n', ' ')}. ${
          // Failures an older Strata cached are reused as they are: only another evaluator version or study evaluates afresh.
          validation.every((entry) => entry.cached) ? 'These failures were recorded by an earlier run and are reused: fix the evaluator and use a new study name' : 'Fix the evaluator, then run again'
        }`,
        { examples: validation.length, first },
      );
    }
    if (this.deps.options.frontier !== 'instance' && validation.every((entry) => entry.objectives === undefined)) {
      throw new ConfigError([{ path: 'frontier', message: `the ${this.deps.options.frontier} frontier needs objectives: return { score, objectives: { name: value } } from evaluate` }]);
    }
    this.commit(initialSnapshot(this.deps.options.randomSeed), {
      outcome: 'seed',
      parentIdx: null,
      component: null,
      detail: 'seed scored on validation',
      parentScores: null,
      childScores: null,
      added: { components: seed, hash, parents: [], origin: 'reflective', description: 'seed', validation },
    });
    this.emit({ kind: 'seed_evaluated', valMean: this.pool.get(0).valMean });
  }

  /** Tell oversight about a committed iteration (see EngineOversight). */
  private async report(iteration: number, outcome: IterationOutcome, newBest: IterationReport['newBest'], started: number, signal: AbortSignal): Promise<void> {
    const { oversight } = this.deps;
    if (!oversight) return;
    const report: IterationReport = { iteration, outcome, newBest, evaluations: this.cache.madeIn(iteration), metricCalls: this.cache.metricCalls(), elapsedMs: Date.now() - started };
    await oversight.afterIteration(report, { testMean: (idx) => this.testMean(idx, signal) });
  }

  /** A pool member's mean score on the held-out test split; null without one. */
  private async testMean(idx: number, signal: AbortSignal): Promise<number | null> {
    const { data } = this.deps;
    if (data.testIds.length === 0) return null;
    const member = this.pool.get(idx);
    const results = await evaluateBatch(this.batch, { candidate: member.components, hash: member.hash, split: 'test', ids: data.testIds, examples: data.test, iteration: -1 }, signal);
    return results.reduce((total, r) => total + r.score, 0) / results.length;
  }

  /** Write the iteration; returns the new best it added, if it did. */
  private commit(work: EngineSnapshot, step: StepRecord): IterationReport['newBest'] {
    const { ledger, studyId } = this.deps;
    const before = this.pool.size > 0 ? this.pool.best() : undefined;
    const previousBest = before?.valMean ?? Number.NEGATIVE_INFINITY;
    const counts = work.counts;
    const key = ({ accepted: 'accepted', rejected: 'rejected', skipped_perfect: 'skipped', reflection_failed: 'failed', duplicate: 'duplicate', merge_accepted: 'mergeAccepted', merge_rejected: 'mergeRejected', seed: undefined } as const)[step.outcome];
    if (key) counts[key] += 1;
    let childIdx: number | null = null;
    ledger.transaction(() => {
      if (step.added) childIdx = this.addCandidate(step.added, work.iteration, previousBest);
      const improved = childIdx !== null && this.pool.get(childIdx).valMean > previousBest;
      work.sinceImprovement = improved || step.outcome === 'seed' ? 0 : work.sinceImprovement + 1;
      work.idle = this.cache.metricCalls() > this.cache.metricCallsBefore(work.iteration) ? 0 : work.idle + 1;
      ledger.record(
        'evolve.iteration_finished',
        { studyId, iteration: work.iteration, outcome: step.outcome, parentIdx: step.parentIdx, childIdx, component: step.component, detail: step.detail, parentScores: step.parentScores, childScores: step.childScores, snapshot: work },
        { studyId },
      );
    });
    this.snapshot = work;
    if (step.outcome === 'seed') return null;
    const best = this.pool.best();
    this.emit({
      kind: 'iteration',
      iteration: work.iteration,
      outcome: step.outcome,
      parent: step.parentIdx,
      child: childIdx,
      detail: step.detail,
      bestValMean: best.valMean,
      bestIdx: best.idx,
      frontSize: this.pool.frontSize(),
      poolSize: this.pool.size,
      metricCalls: this.cache.metricCalls(),
      usd: this.deps.usd.spent,
    });
    const child = childIdx === null ? undefined : this.pool.get(childIdx);
    return child && before && child.valMean > before.valMean ? { idx: child.idx, valMean: child.valMean, description: child.description, previousIdx: before.idx, previousValMean: before.valMean } : null;
  }

  private addCandidate(added: NewCandidate, iteration: number, previousBest: number): number {
    const { ledger, studyId } = this.deps;
    const origin = added.parents.length === 0 ? 'seed' : added.origin;
    const member = this.pool.add(
      { components: added.components, parents: added.parents, origin, hash: added.hash, iteration, foundAtMetricCalls: this.cache.metricCalls(), description: added.description },
      added.validation,
    );
    ledger.record(
      'evolve.candidate_added',
      {
        studyId,
        candidateId: ledger.nextId('candidates'),
        idx: member.idx,
        parents: member.parents,
        components: { ...member.components },
        contentHash: member.hash,
        origin,
        description: member.description,
        iteration,
        foundAtMetricCalls: member.foundAtMetricCalls,
        valMean: member.valMean,
        isBest: member.valMean > previousBest,
      },
      { studyId },
    );
    return member.idx;
  }

  private stopCheck(started: number, signal: AbortSignal): StopOutcome | null {
    const { budget, stopFile, usd } = this.deps;
    if (signal.aborted) return this.deps.signal.aborted ? { reason: 'interrupted', detail: 'stopped by the user; run again to resume' } : { reason: 'time', detail: 'max_time reached' };
    if (stopFile && existsSync(stopFile)) {
      rmSync(stopFile, { force: true });
      return { reason: 'stop_file', detail: `found ${stopFile} (removed it)` };
    }
    const pause = this.deps.oversight?.pauseDue();
    if (pause) return { reason: 'paused', detail: pause };
    if (budget.maxTimeMs !== undefined && Date.now() - started >= budget.maxTimeMs) return { reason: 'time', detail: `max_time of ${budget.maxTimeMs}ms reached` };
    const best = this.pool.best();
    if (budget.scoreThreshold !== undefined && best.valMean >= budget.scoreThreshold) {
      return { reason: 'score_threshold', detail: `#${best.idx} reached ${best.valMean} ≥ ${budget.scoreThreshold}` };
    }
    if (budget.patience !== undefined && this.snapshot.sinceImprovement >= budget.patience) {
      return { reason: 'patience', detail: `${this.snapshot.sinceImprovement} iterations without a better validation mean` };
    }
    // With everything cached, skipped and failed iterations cost nothing: stop once they have cycled the training set twice.
    const idleLimit = Math.max(10, 2 * Math.ceil(this.deps.data.trainIds.length / this.deps.options.minibatchSize));
    if (this.snapshot.idle >= idleLimit) {
      return { reason: 'converged', detail: `${this.snapshot.idle} iterations in a row learned nothing new (no evaluation was needed)` };
    }
    const reflectionCost = this.deps.reflector.client.estimateUsd({ role: 'reflection', prompt: '', maxOutputTokens: this.deps.options.reflection.maxOutputTokens });
    if (reflectionCost !== null && !usd.canAfford(reflectionCost)) {
      return { reason: 'usd', detail: `$${usd.spent.toFixed(4)} spent of $${usd.capUsd}; one more reflection could cost $${reflectionCost.toFixed(4)}` };
    }
    return null;
  }

  private emit(progress: EvolveProgress): void {
    try {
      this.deps.onProgress?.(progress);
    } catch (error) {
      // A listener's bug must not end a paid-for run; it is reported with the result.
      const warning = `a progress listener threw: ${errorMessage(error)}`;
      if (!this.warnings.includes(warning)) this.warnings.push(warning);
    }
  }
}
