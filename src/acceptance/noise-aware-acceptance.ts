import { runsOf, type Acceptance, type AcceptanceDecision, type AcceptanceEvidence, type AcceptanceInput } from '../core/acceptance.ts';
import { StrataError } from '../core/errors.ts';
import { improvement } from '../core/trial.ts';
import { formatNumber, formatPValue } from './format-number.ts';
import { mean, pooledNoise } from './noise-estimate.ts';
import { finalEfficacyZ, futilityZ, INTERIM_EFFICACY_Z } from './sequential-boundary.ts';
import { normalCdf, studentTCdf, studentTQuantile } from './student-t.ts';

/** Settings of the noise-aware rule (`research.acceptance`). */
export interface NoiseAwareSettings {
  /** Runs of the unmodified baseline before the first candidate is judged (≥ 1); more are run when a decision needs them. */
  baselineRepeats: number;
  /** Smallest improvement that counts, in metric units (≥ 0). */
  minDelta: number;
  /** Probability that a kept change is a real improvement beyond min_delta, e.g. 0.95. */
  confidence: number;
  /** Extra runs of the candidate one decision may ask for: the test looks at most 1 + confirm_repeats times. */
  confirmRepeats: number;
  /** Runs the incumbent must have before a close call is tested (its first ones run only when a candidate looks better). Default 5. */
  incumbentRuns?: number;
}

/**
 * Defaults chosen by bench/noise.ts over whole simulated studies (seeds
 * disjoint from the reported ones): a change that does nothing is kept ≤ 5%
 * of the time, a true 2σ improvement ≥ 80%, with fewer runs per decision than
 * the previous rule (five baseline runs first, Haybittle–Peto looks).
 */
export const NOISE_AWARE_DEFAULTS: NoiseAwareSettings = { baselineRepeats: 1, minDelta: 0, confidence: 0.95, confirmRepeats: 4, incumbentRuns: 5 };

/** Degrees of freedom of the noise estimate below which no test is made: the incumbent is measured again first. */
const MIN_NOISE_DF = 3;

/**
 * Keep a change only when its improvement beats the run-to-run noise,
 * measuring only as much as the decision needs.
 *
 * The noise is the standard deviation of one run's metric, pooled over every
 * commit the study measured more than once, with its degrees of freedom. The
 * statistic is Student's t for "the candidate's mean improves on the
 * incumbent's mean by more than min_delta":
 *
 *     t = (improvement − min_delta) / (sd · √(1/n_candidate + 1/n_incumbent))
 *
 * A decision is a group-sequential test whose looks are the candidate's runs
 * (m = 1 … M, M = 1 + confirm_repeats):
 * - a candidate whose mean is not better than the incumbent's by min_delta is
 *   discarded at once (one run: most candidates end here);
 * - otherwise, before the first look, the incumbent is measured until it has
 *   `incumbentRuns` runs, at least one of them since it was kept (the runs
 *   that got it kept are biased in its favour: it was kept because they looked
 *   good), and the noise estimate has 3 degrees of freedom;
 * - at each look before the last: keep when t reaches the level of z = 4,
 *   discard when it falls below the futility bound (binding), else run the
 *   candidate again;
 * - at the last look: keep when t reaches the final threshold, calibrated so
 *   that over all looks a change that does nothing is kept with probability
 *   α = 1 − confidence (see sequential-boundary.ts).
 * The baseline is the first incumbent: it runs once, and again only when a
 * candidate looks better than it.
 *
 * `look: Number.MAX_SAFE_INTEGER` asks for a final verdict on the runs as they are (no rerun).
 *
 * @example
 * const rule = noiseAwareAcceptance();
 * rule.decide({ goal: 'minimize', candidate: [2.6], incumbent: [2.41] }); // discard: not better, one run
 */
export function noiseAwareAcceptance(settings: NoiseAwareSettings = NOISE_AWARE_DEFAULTS): Acceptance {
  checkSettings(settings);
  return {
    name: 'noise-aware',
    baselineRuns: settings.baselineRepeats,
    decide: (input) => decide(settings, input),
  };
}

function decide(settings: NoiseAwareSettings, input: AcceptanceInput): AcceptanceDecision {
  const candidate = runsOf(input.candidate);
  const incumbent = runsOf(input.incumbent);
  const fresh = Math.min(input.incumbentFreshRuns ?? incumbent.length, incumbent.length);
  const final = input.look === Number.MAX_SAFE_INTEGER;
  const maxLooks = 1 + settings.confirmRepeats;
  const wantedIncumbent = settings.incumbentRuns ?? 5;
  const look = Math.min(candidate.length, maxLooks);
  const delta = improvement(mean(candidate), mean(incumbent), input.goal);
  const margin = delta - settings.minDelta;
  const noise = pooledNoise([...(input.otherRuns ?? []), candidate, incumbent]);
  const evidence: AcceptanceEvidence = {
    rule: 'noise-aware',
    candidate: { runs: candidate.length, mean: mean(candidate) },
    incumbent: { runs: incumbent.length, mean: mean(incumbent) },
    improvement: delta,
    noise,
  };
  const counts = `runs: ${candidate.length} candidate, ${incumbent.length} incumbent`;

  if (margin <= 0) {
    const what = delta <= 0 ? 'not better' : `better by less than min_delta ${formatNumber(settings.minDelta)}`;
    return { keep: false, reason: `${what} (${formatNumber(delta)}, ${counts})`, evidence };
  }
  if (noise.df > 0 && noise.sd === 0) {
    // Every repeat agreed exactly: the metric is deterministic (or the run ignores STRATA_SEED), so any margin is real.
    return { keep: true, reason: `better than the best by ${formatNumber(delta)}; repeated runs gave identical metrics (noise 0 over ${noise.df} df; does the run use STRATA_SEED?)`, evidence };
  }
  const incumbentShort = incumbent.length < wantedIncumbent || fresh < 1 || noise.df < MIN_NOISE_DF;
  if (!final && candidate.length === 1 && incumbentShort) {
    const why = fresh < 1 ? 'no run of the incumbent since it was kept' : noise.df < MIN_NOISE_DF ? `the noise estimate has ${noise.df} df` : `${incumbent.length} of the ${wantedIncumbent} incumbent runs a close call needs`;
    return { keep: false, rerun: 'incumbent', reason: `looks better by ${formatNumber(delta)} (${counts}); ${why}: measuring the incumbent again`, evidence };
  }
  if (noise.df === 0) return { keep: false, reason: `no noise estimate (no commit was measured twice): not kept (${counts})`, evidence };

  const alpha = 1 - settings.confidence;
  const standardError = noise.sd * Math.sqrt(1 / candidate.length + 1 / incumbent.length);
  const statistic = margin / standardError;
  const last = final || look >= maxLooks;
  const zThreshold = last ? finalEfficacyZ(maxLooks, incumbent.length, alpha) : INTERIM_EFFICACY_Z;
  const threshold = tWithTailOf(zThreshold, noise.df);
  const pValue = 1 - studentTCdf(statistic, noise.df);
  const halfWidth = tQuantile(1 - alpha / 2, noise.df) * standardError;
  evidence.test = {
    name: 'group-sequential t (binding futility)',
    look,
    maxLooks,
    statistic,
    threshold,
    pValue,
    alpha: Number.isFinite(zThreshold) ? 1 - normalCdf(zThreshold) : 0,
    interval: [delta - halfWidth, delta + halfWidth],
    confidence: settings.confidence,
  };
  const summary = `improvement ${formatNumber(delta)} ± ${formatNumber(halfWidth)} (${Math.round(settings.confidence * 100)}%), noise sd ${formatNumber(noise.sd)} over ${noise.df} df, ${counts}, ${formatPValue(pValue)}`;
  if (statistic >= threshold) return { keep: true, reason: `beats the noise: ${summary}`, evidence };
  if (last) return { keep: false, reason: `within the noise after ${candidate.length} runs: ${summary}`, evidence };
  if (statistic < tWithTailOf(futilityZ(look, maxLooks), noise.df)) return { keep: false, reason: `unlikely to beat the noise (run ${look} of at most ${maxLooks}): ${summary}`, evidence };
  return { keep: false, rerun: 'candidate', reason: `looks better but within the noise (run ${look} of at most ${maxLooks}): ${summary}; measuring the candidate again`, evidence };
}

/** The t (with `df` degrees of freedom) whose upper tail equals that of z: the boundaries are set on the z scale. */
function tWithTailOf(z: number, df: number): number {
  if (!Number.isFinite(z)) return z;
  return tQuantile(normalCdf(z), df);
}

const quantiles = new Map<string, number>();
/** Quantiles are asked for again and again with the same (p, df); bisection is not free. */
function tQuantile(p: number, df: number): number {
  const key = `${p}:${df}`;
  let value = quantiles.get(key);
  if (value === undefined) {
    value = studentTQuantile(p, df);
    if (quantiles.size > 10_000) quantiles.clear();
    quantiles.set(key, value);
  }
  return value;
}

function checkSettings(settings: NoiseAwareSettings): void {
  const problems: string[] = [];
  if (!(Number.isInteger(settings.baselineRepeats) && settings.baselineRepeats >= 1)) problems.push(`baseline_repeats must be an integer ≥ 1, got ${settings.baselineRepeats}`);
  if (!(Number.isInteger(settings.confirmRepeats) && settings.confirmRepeats >= 1)) problems.push(`confirm_repeats must be an integer ≥ 1, got ${settings.confirmRepeats}`);
  if (settings.incumbentRuns !== undefined && !(Number.isInteger(settings.incumbentRuns) && settings.incumbentRuns >= 2)) problems.push(`incumbent runs must be an integer ≥ 2, got ${settings.incumbentRuns}`);
  if (!(settings.confidence > 0.5 && settings.confidence < 1)) problems.push(`confidence must be between 0.5 and 1, got ${settings.confidence}`);
  if (!(settings.minDelta >= 0)) problems.push(`min_delta must be ≥ 0, got ${settings.minDelta}`);
  if (problems.length > 0) throw new StrataError('invalid_argument', `noise-aware acceptance: ${problems.join('; ')}`, { details: { settings } });
}
