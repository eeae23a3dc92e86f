import { ConfigError, type ConfigIssue } from '../../core/errors.ts';
import type { Random } from '../../core/random.ts';
import type { Observation, ParamSpec, ParamValue, ParamValues, SearchSpace } from '../../core/search-space.ts';
import { buildParzenEstimator, isValidValue, type ParzenEstimator, type ParzenOptions } from './parzen-estimator.ts';
import { drawRandomParams } from './random-draw.ts';
import { assertValidSearchSpace, orderedNames, type Sampler } from './sampler.ts';
import { proposeUnique } from './unique-proposal.ts';

/** TPE settings; every default is Optuna's TPESampler default. */
export interface TpeOptions extends Partial<ParzenOptions> {
  /** Finished observations drawn at random before TPE starts modelling (10). */
  nStartupTrials?: number;
  /** Candidates drawn from l(x) per dimension; the best l/g ratio wins (24). */
  nEiCandidates?: number;
  /** How many of n finite observations count as good (min(ceil(0.1 n), 25)). */
  gamma?: (n: number) => number;
  /** Kernel weights for n observations in history order, oldest first. */
  weights?: (n: number) => number[];
}

/**
 * Optuna's default gamma: the best 10% of finished observations are "good",
 * capped at 25 so l(x) keeps concentrating as history grows.
 *
 * @example
 * defaultGamma(40); // 4
 */
export function defaultGamma(n: number): number {
  return Math.min(Math.ceil(0.1 * n), 25);
}

/**
 * Optuna's default weights: all 1 below 25 observations; beyond, the newest 25
 * keep weight 1 and older ones ramp linearly from 1/n, so stale regions fade.
 *
 * @example
 * defaultWeights(3); // [1, 1, 1]
 */
export function defaultWeights(n: number): number[] {
  if (n < 25) return new Array<number>(n).fill(1);
  const rampLength = n - 25;
  const ramp = Array.from({ length: rampLength }, (_, i) => (rampLength === 1 ? 1 / n : 1 / n + ((1 - 1 / n) * i) / (rampLength - 1)));
  return [...ramp, ...new Array<number>(25).fill(1)];
}

/**
 * Tree-structured Parzen estimator, univariate, after Optuna's TPESampler.
 * After `nStartupTrials` random proposals, the finite observations are split
 * by loss into the best gamma(n) ("good") and the rest ("bad"); each dimension
 * gets a Parzen estimator l(x) over the good values and g(x) over the bad ones
 * (each with a prior kernel), and the proposal is, per dimension, the best of
 * `nEiCandidates` draws from l by log l(x) - log g(x).
 *
 * Crashed observations (loss null or not finite) join the bad group: a crash
 * is evidence against its region (a learning rate that diverges, a batch that
 * does not fit), so g(x) grows there and TPE steers away. They do not count
 * towards gamma, so crashes never push a finite observation out of "good".
 * (Optuna ignores failed trials; that loses what a crash teaches.) Crashes do
 * count as finished trials towards `nStartupTrials`.
 *
 * A proposal whose key is in `avoid` is redrawn with fresh candidates a few
 * times, then replaced by a random draw not in `avoid` (see proposeUnique).
 *
 * @example
 * const tpe = new TpeSampler({ nStartupTrials: 5 });
 * const params = tpe.sample(space, history, rng, avoid);
 */
export class TpeSampler implements Sampler {
  readonly name = 'tpe' as const;
  private readonly nStartupTrials: number;
  private readonly nEiCandidates: number;
  private readonly gamma: (n: number) => number;
  private readonly weights: (n: number) => number[];
  private readonly parzen: ParzenOptions;

  constructor(options: TpeOptions = {}) {
    this.nStartupTrials = options.nStartupTrials ?? 10;
    this.nEiCandidates = options.nEiCandidates ?? 24;
    this.gamma = options.gamma ?? defaultGamma;
    this.weights = options.weights ?? defaultWeights;
    this.parzen = {
      priorWeight: options.priorWeight ?? 1,
      considerMagicClip: options.considerMagicClip ?? true,
      considerEndpoints: options.considerEndpoints ?? false,
    };
    const issues: ConfigIssue[] = [];
    if (!Number.isInteger(this.nStartupTrials) || this.nStartupTrials < 0) {
      issues.push({ path: 'tpe.nStartupTrials', message: `expected an integer >= 0, got ${this.nStartupTrials}` });
    }
    if (!Number.isInteger(this.nEiCandidates) || this.nEiCandidates < 1) {
      issues.push({ path: 'tpe.nEiCandidates', message: `expected an integer >= 1, got ${this.nEiCandidates}` });
    }
    if (!(this.parzen.priorWeight > 0) || !Number.isFinite(this.parzen.priorWeight)) {
      issues.push({ path: 'tpe.priorWeight', message: `expected a finite number > 0, got ${this.parzen.priorWeight}` });
    }
    if (issues.length > 0) throw new ConfigError(issues);
  }

  sample(space: SearchSpace, history: readonly Observation[], rng: Random, avoid?: ReadonlySet<string>): ParamValues {
    assertValidSearchSpace(space);
    if (history.length < this.nStartupTrials) return proposeUnique(space, avoid, rng, () => drawRandomParams(space, rng));
    const { good, bad } = this.split(history);
    const names = orderedNames(space);
    const models = names.map((name) => {
      const spec = space[name]!;
      return { name, below: this.fit(spec, good, name), above: this.fit(spec, bad, name) };
    });
    return proposeUnique(space, avoid, rng, () => {
      const params: ParamValues = {};
      for (const model of models) params[model.name] = this.bestCandidate(model.below, model.above, rng);
      return params;
    });
  }

  /** Good = the gamma(n) lowest finite losses (ties: earlier first); bad = the rest and every crash. Both keep history order. */
  private split(history: readonly Observation[]): { good: Observation[]; bad: Observation[] } {
    const finite = history.map((observation, index) => ({ observation, index })).filter(({ observation }) => isFiniteLoss(observation.loss));
    const goodCount = Math.max(0, Math.min(finite.length, Math.floor(this.gamma(finite.length))));
    const ranked = finite.slice().sort((a, b) => (a.observation.loss as number) - (b.observation.loss as number) || a.index - b.index);
    const goodIndices = new Set(ranked.slice(0, goodCount).map(({ index }) => index));
    const good: Observation[] = [];
    const bad: Observation[] = [];
    history.forEach((observation, index) => (goodIndices.has(index) ? good : bad).push(observation));
    return { good, bad };
  }

  /** Observations missing this dimension or holding an out-of-bounds value (the space changed) are left out of it. */
  private fit(spec: ParamSpec, group: readonly Observation[], name: string): ParzenEstimator {
    const values: ParamValue[] = [];
    for (const observation of group) {
      const value = observation.params[name];
      if (isValidValue(spec, value)) values.push(value);
    }
    const weights = this.weights(values.length);
    if (weights.length !== values.length || weights.some((weight) => !(weight >= 0) || !Number.isFinite(weight))) {
      throw new ConfigError([{ path: 'tpe.weights', message: `the weights function must return ${values.length} finite numbers >= 0, got ${JSON.stringify(weights)}` }]);
    }
    return buildParzenEstimator(spec, values, weights, this.parzen);
  }

  private bestCandidate(below: ParzenEstimator, above: ParzenEstimator, rng: Random): ParamValue {
    let best: ParamValue | undefined;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < this.nEiCandidates; i++) {
      const candidate = below.sample(rng);
      const score = below.logDensity(candidate) - above.logDensity(candidate);
      if (best === undefined || score > bestScore) {
        best = candidate;
        bestScore = score;
      }
    }
    return best!;
  }
}

function isFiniteLoss(loss: number | null): loss is number {
  return typeof loss === 'number' && Number.isFinite(loss);
}
