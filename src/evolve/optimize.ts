import { MAX_DURATION_TEXT } from '../core/config/duration-schema.ts';
import { EVOLVE_DEFAULTS } from '../core/config/evolve-config.ts';
import { NO_OVERSIGHT, type OversightConfig } from '../core/config/oversight-config.ts';
import { normalizeModelReference } from '../core/config/llm-config.ts';
import { MAX_DURATION_MS } from '../core/duration.ts';
import { ConfigError, errorMessage, EvaluatorError, StudyStateError, StudyStoppedError, type ConfigIssue } from '../core/errors.ts';
import { Ledger } from '../ledger/ledger.ts';
import { ModelClient } from '../llm/model-client.ts';
import { UsdBudget } from '../llm/usd-budget.ts';
import { proposalsBudgetBuys } from './budget-estimate.ts';
import { candidateHash, jsonHash } from './content-hash.ts';
import type { ProposalCounts } from './engine-snapshot.ts';
import { EvolveEngine } from './evolve-engine.ts';
import { exampleIds } from './example-ids.ts';
import type { StudySession } from '../study/study-session.ts';
import { openEvolveStudy } from './open-evolve-study.ts';
import { checkEvolveOversight, watchEvolve, type EvolveOversight } from '../oversight/evolve-oversight.ts';
import type { Front } from './pareto-front.ts';
import { defaultReflectiveRecord } from './reflective-record.ts';
import { Reflector } from './reflector.ts';
import type { Candidate, StudyBinding, EngineOptions, Evaluate, EvaluationResult, EvolveBudget, EvolveProgress, PoolCandidate, ReflectionModel, ReflectiveRecord, StopReason } from './types.ts';

export interface OptimizeOptions<E> {
  /** The starting candidate: component name → text. */
  seed: Candidate;
  /** Examples reflection learns from (minibatches). */
  trainset: readonly E[];
  /** Examples that score candidates and build the Pareto fronts. */
  valset: readonly E[];
  /** Held out: scored for the seed and the best at the end, never used for selection, outside the metric-call budget. */
  testset?: readonly E[];
  evaluate: Evaluate<E>;
  reflectionModel: ReflectionModel;
  budget: EvolveBudget;
  minibatchSize?: number;
  perfectScore?: number;
  skipPerfect?: boolean;
  selector?: EngineOptions['selector'];
  epsilon?: number;
  topK?: number;
  componentSelector?: EngineOptions['componentSelector'];
  acceptance?: EngineOptions['acceptance'];
  frontier?: EngineOptions['frontier'];
  merge?: boolean | Partial<EngineOptions['merge']>;
  concurrency?: number;
  randomSeed?: number;
  maxComponentChars?: number;
  reflection?: Partial<EngineOptions['reflection']>;
  /** Bump when the evaluator changes meaning, so cached scores are not reused. */
  evaluatorVersion?: string;
  /** What the reflector sees per example; default: input, output, score, feedback from the trace. */
  reflectiveRecord?: (example: E, result: EvaluationResult, component: string) => ReflectiveRecord;
  /** A ledger or a path to one; default an in-memory ledger (no resume). */
  ledger?: Ledger | string;
  /** Default: derived from the seed and data, so the same inputs resume the same study. */
  studyName?: string;
  signal?: AbortSignal;
  stopFile?: string;
  onProgress?: (progress: EvolveProgress) => void;
  /** Reflection model client settings. */
  llm?: { timeoutMs?: number; maxRetries?: number; env?: NodeJS.ProcessEnv };
  /** Make one cheap call to the reflection model before anything else, so a bad key or model id fails fast (default false). */
  checkModels?: boolean;
  /** Runs once the study is open, before the first evaluation (e.g. to check the evaluator's own models). */
  prepare?: (study: StudyBinding, signal: AbortSignal) => Promise<void>;
  /**
   * Pause for review and send notifications (`oversight:` of strata.yaml, normalized): pauseOn newBest, crashStreak
   * (iterations in a row whose reflection or evaluations failed), spendUsd, holdoutGap (needs a testset); diffLines
   * has no meaning for evolve and is refused. Webhook URLs are read from `llm.env` (default process.env).
   */
  oversight?: OversightConfig;
}

/** The engine settings of `optimize`, each optional. */
export type EngineOptionsInput = Pick<
  OptimizeOptions<unknown>,
  | 'minibatchSize' | 'perfectScore' | 'skipPerfect' | 'selector' | 'epsilon' | 'topK' | 'componentSelector' | 'acceptance' | 'frontier'
  | 'merge' | 'concurrency' | 'randomSeed' | 'maxComponentChars' | 'reflection' | 'evaluatorVersion'
>;

export interface OptimizeResult {
  studyId: number;
  studyName: string;
  resumed: boolean;
  best: PoolCandidate;
  bestCandidate: Candidate;
  pool: PoolCandidate[];
  fronts: Front[];
  budget: { metricCalls: number; metricCallsLimit: number | null; usd: number; usdLimit: number | null; iterations: number; elapsedMs: number };
  proposals: ProposalCounts;
  stopReason: StopReason;
  stopDetail: string;
  /** Mean test score of the seed and the best candidate, when a test set was given. */
  test: { seed: number; best: number; bestIdx: number; n: number } | null;
  warnings: string[];
}

/**
 * Evolve text components with reflective prompt evolution (GEPA): Pareto
 * parent selection over validation examples, minibatch reflection by a model
 * that reads feedback, strict minibatch acceptance, optional merges. Every
 * evaluation, reply and iteration is written to the ledger, so a run given a
 * ledger path resumes exactly after a kill.
 *
 * @example
 * import { optimize } from 'strata';
 * const result = await optimize({
 *   seed: { system_prompt: 'Classify the support ticket.' },
 *   trainset, valset,
 *   evaluate: async (candidate, example) => {
 *     const output = await myModel(candidate.system_prompt, example.input);
 *     const ok = output.trim() === example.answer;
 *     return { score: ok ? 1 : 0, feedback: ok ? 'correct' : `expected ${example.answer}`, trace: { input: example.input, output } };
 *   },
 *   reflectionModel: 'anthropic:claude-sonnet-4-5',
 *   budget: { metricCalls: 500, usd: 5 },
 *   ledger: '.strata/ledger.db',
 * });
 * console.log(result.bestCandidate.system_prompt, result.best.valMean);
 */
export async function optimize<E>(options: OptimizeOptions<E>): Promise<OptimizeResult> {
  const started = Date.now();
  const engineOptions = resolveEngineOptions(options);
  const ids = { train: exampleIds(options.trainset, 'trainset'), val: exampleIds(options.valset, 'valset'), test: exampleIds(options.testset ?? [], 'testset') };
  if (ids.train.length === 0 || ids.val.length === 0) throw new ConfigError([{ path: ids.train.length === 0 ? 'trainset' : 'valset', message: 'needs at least one example' }]);
  if (Object.keys(options.seed).length === 0) throw new ConfigError([{ path: 'seed', message: 'name at least one component' }]);
  const budgetProblems = budgetIssues(options.budget);
  if (budgetProblems.length > 0) throw new ConfigError(budgetProblems);
  if (options.budget.metricCalls === undefined && !options.budget.usd && options.budget.maxTimeMs === undefined) {
    throw new ConfigError([{ path: 'budget', message: 'set metricCalls, usd or maxTimeMs: a run needs a finite budget' }]);
  }
  const identity = {
    seedHash: candidateHash(options.seed),
    trainHash: jsonHash(options.trainset),
    valHash: jsonHash(options.valset),
    testHash: jsonHash(options.testset ?? []),
    evaluatorVersion: engineOptions.evaluatorVersion,
  };
  const studyName = options.studyName ?? `evolve-${jsonHash(identity).slice(0, 8)}`;
  checkEvolveOversight(options.oversight, ids.test.length > 0, (condition) => `oversight.pauseOn.${condition.replace(/_(\w)/g, (_, letter: string) => letter.toUpperCase())}`);
  const ownsLedger = !(options.ledger instanceof Ledger);
  const ledger = options.ledger instanceof Ledger ? options.ledger : Ledger.open(options.ledger ?? ':memory:');
  let session: StudySession | undefined;
  let oversight: EvolveOversight | undefined;
  try {
    // Claim, heartbeat and release as every loop does (study/study-session.ts): a second process cannot take a running evolve study.
    const opened = openEvolveStudy(ledger, studyName, identity, { options: engineOptions, budget: options.budget }, { ...(options.signal ? { signal: options.signal } : {}) });
    const { study, resumed } = opened;
    session = opened.session;
    // Always watched: a plain `strata pause` lets the running iteration finish, with or without `oversight:`.
    oversight = watchEvolve({ ledger, studyId: study.id, studyName, session, config: options.oversight ?? NO_OVERSIGHT, budget: options.budget, ...(options.llm?.env ? { env: options.llm.env } : {}) });
    const usd = new UsdBudget(options.budget.usd ?? null, ledger.llm.spentUsd(study.id));
    const client = new ModelClient({
      model: toModel(options.reflectionModel),
      ledger,
      studyId: study.id,
      budget: usd,
      ...(options.llm?.timeoutMs !== undefined ? { timeoutMs: options.llm.timeoutMs } : {}),
      ...(options.llm?.maxRetries !== undefined ? { retry: { maxRetries: options.llm.maxRetries } } : {}),
      ...(options.llm?.env ? { env: options.llm.env } : {}),
    });
    const reflector = new Reflector({
      client,
      ledger,
      studyId: study.id,
      ...(engineOptions.reflection.prompt !== undefined ? { prompt: engineOptions.reflection.prompt } : {}),
      maxOutputTokens: engineOptions.reflection.maxOutputTokens,
      attempts: engineOptions.reflection.attempts,
      maxComponentChars: engineOptions.maxComponentChars,
    });
    // The session's signal: it follows options.signal and also aborts on `strata pause --now` / `strata stop` from another process.
    const signal = opened.session.signal;
    if (options.checkModels) await client.check(signal);
    await options.prepare?.({ ledger, studyId: study.id, usd }, signal);
    const byId = <T>(list: readonly T[], keys: string[]) => new Map(keys.map((key, i) => [key, list[i]!]));
    const engine = EvolveEngine.restore<E>({
      ledger,
      studyId: study.id,
      options: engineOptions,
      budget: options.budget,
      data: {
        trainIds: ids.train,
        valIds: ids.val,
        testIds: ids.test,
        train: byId(options.trainset, ids.train),
        val: byId(options.valset, ids.val),
        test: byId(options.testset ?? [], ids.test),
      },
      seed: options.seed,
      evaluate: options.evaluate,
      reflector,
      usd,
      reflectiveRecord: options.reflectiveRecord ?? defaultReflectiveRecord,
      signal,
      ...(options.stopFile ? { stopFile: options.stopFile } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      oversight,
    });

    const proposals =
      options.budget.metricCalls === undefined
        ? null
        : proposalsBudgetBuys({ metricCalls: options.budget.metricCalls, valSize: ids.val.length, minibatchSize: Math.min(engineOptions.minibatchSize, ids.train.length), spent: engine.cache.metricCalls() });
    const startWarnings: string[] = [];
    if (proposals && proposals.min < 1) {
      startWarnings.push(
        proposals.max < 1
          ? `the metric-call budget cannot cover a single proposal (one needs ${2 * engineOptions.minibatchSize} calls after the seed's ${ids.val.length})`
          : `the metric-call budget cannot cover one accepted proposal (${2 * engineOptions.minibatchSize + ids.val.length} calls)`,
      );
    }
    engine.warnings.push(...startWarnings);
    safeEmit(options.onProgress, { kind: 'started', resumed, valSize: ids.val.length, trainSize: ids.train.length, proposals, warnings: startWarnings }, engine.warnings);

    const stop = await engine.run();
    const paused = stop.reason === 'interrupted' || stop.reason === 'stop_file' || stop.reason === 'llm_unavailable' || stop.reason === 'paused';
    if (stop.reason === 'paused') session.end('paused', stop.detail, 'oversight');
    else session.end(paused ? 'paused' : 'done', `${stop.reason}: ${stop.detail}`, stop.reason === 'interrupted' || stop.reason === 'stop_file' ? 'user' : stop.reason === 'llm_unavailable' ? 'model-unavailable' : 'complete');
    safeEmit(options.onProgress, { kind: 'stopped', reason: stop.reason, detail: stop.detail }, engine.warnings);
    const test = paused || engine.pool.size === 0 ? null : await engine.scoreTest(signal);
    if (engine.pool.size === 0) {
      if (stop.reason === 'interrupted') throw new StudyStoppedError();
      if (paused) throw new StudyStateError(`the study paused before the seed was scored: ${stop.detail}; run again to resume`, { study: studyName, reason: stop.reason });
      throw new ConfigError([{ path: 'budget', message: `the run stopped before the seed was scored: ${stop.detail}` }]);
    }

    const best = engine.pool.best();
    return {
      studyId: study.id,
      studyName,
      resumed,
      best,
      bestCandidate: best.components,
      pool: [...engine.pool.members],
      fronts: engine.pool.fronts().map((front) => ({ ...front, holders: [...front.holders] })),
      budget: {
        metricCalls: engine.cache.metricCalls(),
        metricCallsLimit: options.budget.metricCalls ?? null,
        usd: usd.spent,
        usdLimit: usd.capUsd,
        iterations: engine.iteration,
        elapsedMs: Date.now() - started,
      },
      proposals: { ...engine.counts },
      stopReason: stop.reason,
      stopDetail: stop.detail,
      test,
      warnings: engine.warnings,
    };
  } catch (caught) {
    // A stop at any moment (the model check, the seed's scoring) is the user's, not an error: whatever the abort threw, the study pauses.
    const error = options.signal?.aborted && !(caught instanceof EvaluatorError) ? new StudyStoppedError() : caught;
    // Leave the study resumable: fixing a key or a file and running again continues it. An evaluator that never scores fails it (running again after the fix resumes it too).
    if (session && ledger.isOpen && ledger.study(session.studyId).state === 'running') {
      const state = error instanceof EvaluatorError ? 'failed' : 'paused';
      const reason = error instanceof StudyStoppedError ? `interrupted: ${error.message}` : state === 'failed' ? errorMessage(error) : `error: ${errorMessage(error)}`;
      session.end(state, reason.slice(0, 1000), error instanceof StudyStoppedError ? 'user' : 'error');
    }
    throw error;
  } finally {
    // Notifications in flight (paused, done) are recorded before the ledger closes.
    if (ledger.isOpen) await oversight?.settle();
    if (ledger.isOpen) session?.close();
    if (ownsLedger) ledger.close();
  }
}

/** Every engine option with its default filled in (explicit defaults equal omitted ones). */
export function resolveEngineOptions(options: EngineOptionsInput): EngineOptions {
  const d = EVOLVE_DEFAULTS;
  const merge = typeof options.merge === 'object' ? options.merge : { enabled: options.merge === true };
  return {
    minibatchSize: options.minibatchSize ?? d.minibatchSize,
    perfectScore: options.perfectScore ?? d.perfectScore,
    skipPerfect: options.skipPerfect ?? d.skipPerfect,
    selector: options.selector ?? d.selector,
    epsilon: options.epsilon ?? d.epsilon,
    topK: options.topK ?? d.topK,
    componentSelector: options.componentSelector ?? d.componentSelector,
    acceptance: options.acceptance ?? d.acceptance,
    frontier: options.frontier ?? d.frontier,
    merge: { enabled: merge.enabled ?? true, maxMerges: merge.maxMerges ?? d.maxMerges, subsample: merge.subsample ?? d.mergeSubsample },
    concurrency: options.concurrency ?? d.concurrency,
    randomSeed: options.randomSeed ?? d.randomSeed,
    maxComponentChars: options.maxComponentChars ?? d.maxComponentChars,
    reflection: {
      ...(options.reflection?.prompt !== undefined ? { prompt: options.reflection.prompt } : {}),
      maxOutputTokens: options.reflection?.maxOutputTokens ?? d.reflectionMaxOutputTokens,
      attempts: options.reflection?.attempts ?? d.reflectionAttempts,
    },
    evaluatorVersion: options.evaluatorVersion ?? '',
  };
}

/**
 * The limits the config file's schema checks, checked for the library's caller: a maxTimeMs
 * beyond a timer's range fires at once (Node sets it to 1 ms), an endless metricCalls is no budget.
 */
function budgetIssues(budget: EvolveBudget): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const { metricCalls, usd, maxTimeMs } = budget;
  if (metricCalls !== undefined && !(Number.isInteger(metricCalls) && metricCalls >= 1)) {
    issues.push({ path: 'budget.metricCalls', message: `must be a whole number of at least 1, got ${metricCalls}` });
  }
  if (usd !== undefined && !(Number.isFinite(usd) && usd >= 0)) issues.push({ path: 'budget.usd', message: `must be a finite number of at least 0 (0 = no cap), got ${usd}` });
  if (maxTimeMs !== undefined) {
    if (!(Number.isFinite(maxTimeMs) && maxTimeMs >= 0)) issues.push({ path: 'budget.maxTimeMs', message: `must be a number of milliseconds of at least 0, got ${maxTimeMs}` });
    else if (maxTimeMs > MAX_DURATION_MS) issues.push({ path: 'budget.maxTimeMs', message: `must be at most ${MAX_DURATION_MS} ms, ${MAX_DURATION_TEXT}, got ${maxTimeMs}` });
  }
  return issues;
}

function toModel(model: ReflectionModel): ConstructorParameters<typeof ModelClient>[0]['model'] {
  if (typeof model !== 'string') return model;
  const issues: ConfigIssue[] = [];
  const spec = normalizeModelReference(model, 'reflectionModel', issues);
  if (issues.length > 0) throw new ConfigError(issues);
  return spec;
}

function safeEmit(listener: ((progress: EvolveProgress) => void) | undefined, progress: EvolveProgress, warnings: string[]): void {
  try {
    listener?.(progress);
  } catch (error) {
    const warning = `a progress listener threw: ${(error as Error).message}`;
    if (!warnings.includes(warning)) warnings.push(warning);
  }
}
