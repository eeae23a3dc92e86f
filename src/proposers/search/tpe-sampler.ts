import { ConfigError, type ConfigIssue } from '../../core/errors.ts';
import type { Random } from '../../core/random.ts';
import { activationOrder, isActive, type Observation, type ParamSpec, type ParamValue, type ParamValues, type SearchSpace } from '../../core/search-space.ts';
import { conditionGroups } from './condition-groups.ts';
import { buildMultivariateParzen } from './multivariate-parzen.ts';
import { buildParzenEstimator, isValidValue, type ParzenEstimator, type ParzenOptions } from './parzen-estimator.ts';
import { drawRandomParams } from './random-draw.ts';
import { assertValidSearchSpace, type SampleRequest, type SampleResult, type Sampler } from './sampler.ts';
import { proposeUnique } from './unique-proposal.ts';

/** TPE settings; every default but `multivariate` is Optuna's TPESampler default. */
export interface TpeOptions extends Partial<ParzenOptions> {
  /**
   * One joint estimator per group of parameters that are active together
   * (Optuna's `multivariate=True, group=True`) instead of one per parameter
   * (true by default; false is Optuna's default).
   */
  multivariate?: boolean;
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
 * Tree-structured Parzen estimator after Optuna's TPESampler. After
 * `nStartupTrials` random proposals, the finite observations are split by
 * loss into the best gamma(n) ("good") and the rest ("bad"); l(x) is a Parzen
 * estimator over the good points and g(x) over the bad ones (each with a
 * prior kernel), and the proposal is the best of `nEiCandidates` draws from l
 * by log l(x) - log g(x).
 *
 * Multivariate (the default): the parameters are split into groups that are
 * active together (all unconditional parameters form one group; each distinct
 * `when` clause another), and each group gets one joint estimator, fitted to
 * the observations holding the whole group, so correlated parameters move
 * together. Univariate (Optuna's default): one estimator and one choice per
 * parameter. Either way parameters are drawn parents first, and a
 * conditional parameter only when its `when` holds.
 *
 * Crashed observations (loss null or not finite) join the bad group: a crash
 * is evidence against its region (a learning rate that diverges, a batch that
 * does not fit), so g(x) grows there and TPE steers away. They do not count
 * towards gamma, so crashes never push a finite observation out of "good".
 * (Optuna ignores failed trials; that loses what a crash teaches.) Crashes do
 * count as finished trials towards `nStartupTrials`.
 *
 * Pending proposals (running on other slots) join the bad group too, Optuna's
 * `constant_liar`: the next proposal is pushed away from points whose result
 * is not known yet instead of piling onto the same promising region.
 *
 * A proposal whose key is in `avoid` is redrawn with fresh candidates a few
 * times, then replaced by a random draw not in `avoid` (see proposeUnique).
 *
 * @example
 * const tpe = new TpeSampler({ nStartupTrials: 5 });
 * const { params } = tpe.sample({ space, history, rng, avoid });
 */
export class TpeSampler implements Sampler {
  readonly name = 'tpe' as const;
  private readonly nStartupTrials: number;
  private readonly nEiCandidates: number;
  private readonly gamma: (n: number) => number;
  private readonly weights: (n: number) => number[];
  private readonly parzen: ParzenOptions;
  private readonly multivariate: boolean;

  constructor(options: TpeOptions = {}) {
    this.nStartupTrials = options.nStartupTrials ?? 10;
    this.nEiCandidates = options.nEiCandidates ?? 24;
    this.gamma = options.gamma ?? defaultGamma;
    this.weights = options.weights ?? defaultWeights;
    this.multivariate = options.multivariate ?? true;
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

  sample({ space, history, pending = [], rng, avoid }: SampleRequest): SampleResult {
    assertValidSearchSpace(space);
    if (history.length < this.nStartupTrials) {
      return { params: proposeUnique(space, avoid, rng, () => drawRandomParams(space, rng)), sampler: 'tpe', startup: true };
    }
    // Constant liar: a pending point counts as a bad result until it finishes.
    const observations: Observation[] = [...history, ...pending.map((params) => ({ params, loss: null }))];
    const propose = this.multivariate ? this.multivariateProposal(space, observations, rng) : this.univariateProposal(space, observations, rng);
    return { params: proposeUnique(space, avoid, rng, propose), sampler: 'tpe', startup: false };
  }

  /** One estimator per parameter, fitted once; each proposal picks every parameter on its own. */
  private univariateProposal(space: SearchSpace, observations: readonly Observation[], rng: Random): () => ParamValues {
    const models = new Map<string, { below: ParzenEstimator; above: ParzenEstimator }>();
    for (const name of activationOrder(space)) {
      const spec = space[name]!;
      const holding = observations.filter((observation) => isValidValue(spec, observation.params[name]));
      const { good, bad } = this.split(holding);
      models.set(name, { below: this.fit(spec, good, name), above: this.fit(spec, bad, name) });
    }
    return () => {
      const params: ParamValues = {};
      for (const name of activationOrder(space)) {
        if (!isActive(space, name, params)) continue;
        const model = models.get(name)!;
        params[name] = bestOf(this.nEiCandidates, () => model.below.sample(rng), (value) => model.below.logDensity(value) - model.above.logDensity(value));
      }
      return params;
    };
  }

  /** One joint estimator per condition group, groups drawn parents first. */
  private multivariateProposal(space: SearchSpace, observations: readonly Observation[], rng: Random): () => ParamValues {
    const models = conditionGroups(space).map((names) => {
      const specs = names.map((name) => space[name]!);
      const holding = observations.filter((observation) => names.every((name, j) => isValidValue(specs[j]!, observation.params[name])));
      const { good, bad } = this.split(holding);
      const fit = (group: readonly Observation[]) =>
        buildMultivariateParzen(specs, group.map((observation) => names.map((name) => observation.params[name]!)), this.checkedWeights(group.length), this.parzen);
      return { names, below: fit(good), above: fit(bad) };
    });
    return () => {
      const params: ParamValues = {};
      for (const { names, below, above } of models) {
        // Every member of a group shares one `when`, so the first one speaks for all.
        if (!isActive(space, names[0]!, params)) continue;
        const point = bestOf(this.nEiCandidates, () => below.sample(rng), (candidate) => below.logDensity(candidate) - above.logDensity(candidate));
        names.forEach((name, j) => {
          params[name] = point[j]!;
        });
      }
      return params;
    };
  }

  /** Good = the gamma(n) lowest finite losses (ties: earlier first); bad = the rest and every crash or pending point. Both keep history order. */
  private split(observations: readonly Observation[]): { good: Observation[]; bad: Observation[] } {
    const finite = observations.map((observation, index) => ({ observation, index })).filter(({ observation }) => isFiniteLoss(observation.loss));
    const goodCount = Math.max(0, Math.min(finite.length, Math.floor(this.gamma(finite.length))));
    const ranked = finite.slice().sort((a, b) => (a.observation.loss as number) - (b.observation.loss as number) || a.index - b.index);
    const goodIndices = new Set(ranked.slice(0, goodCount).map(({ index }) => index));
    const good: Observation[] = [];
    const bad: Observation[] = [];
    observations.forEach((observation, index) => (goodIndices.has(index) ? good : bad).push(observation));
    return { good, bad };
  }

  private fit(spec: ParamSpec, group: readonly Observation[], name: string): ParzenEstimator {
    const values: ParamValue[] = group.map((observation) => observation.params[name]!);
    return buildParzenEstimator(spec, values, this.checkedWeights(values.length), this.parzen);
  }

  private checkedWeights(n: number): number[] {
    const weights = this.weights(n);
    if (weights.length !== n || weights.some((weight) => !(weight >= 0) || !Number.isFinite(weight))) {
      throw new ConfigError([{ path: 'tpe.weights', message: `the weights function must return ${n} finite numbers >= 0, got ${JSON.stringify(weights)}` }]);
    }
    return weights;
  }
}

/** The best of `count` draws by `score` (the first of equals). */
function bestOf<T>(count: number, draw: () => T, score: (candidate: T) => number): T {
  let best = draw();
  let bestScore = score(best);
  for (let i = 1; i < count; i++) {
    const candidate = draw();
    const candidateScore = score(candidate);
    if (candidateScore > bestScore) {
      best = candidate;
      bestScore = candidateScore;
    }
  }
  return best;
}

function isFiniteLoss(loss: number | null): loss is number {
  return typeof loss === 'number' && Number.isFinite(loss);
}
