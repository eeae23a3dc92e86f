/**
 * The noise-aware rule as it was before issue 18 (commit de0792d), kept only so
 * bench/noise.ts can measure the new rule side by side with it: five baseline
 * runs before the first candidate, Haybittle–Peto looks (p < 0.001 before the
 * last), futility only at "not better". Not used by Strata itself.
 */
import { runsOf, type Acceptance, type AcceptanceDecision, type AcceptanceEvidence, type AcceptanceInput } from '../src/core/acceptance.ts';
import { StrataError } from '../src/core/errors.ts';
import { improvement } from '../src/core/trial.ts';
import { formatNumber, formatPValue } from '../src/acceptance/format-number.ts';
import { mean, pooledNoise } from '../src/acceptance/noise-estimate.ts';
import { studentTCdf, studentTQuantile } from '../src/acceptance/student-t.ts';

/** Settings of the noise-aware rule (`research.acceptance`). */
export interface PreviousNoiseAwareSettings {
  /** Runs of the unmodified baseline, each with its own STRATA_SEED, to estimate the noise before the first candidate (≥ 2). */
  baselineRepeats: number;
  /** Smallest improvement that counts, in metric units (≥ 0). */
  minDelta: number;
  /** Probability that a kept change is a real improvement beyond min_delta, e.g. 0.95. */
  confidence: number;
  /** Extra runs one decision may ask for (of the candidate, or of the incumbent when it has fewer runs). */
  confirmRepeats: number;
}

/**
 * Defaults chosen by bench/noise.ts: with them a change that does nothing is
 * kept ≤ 5% of the time and a true 2σ improvement ≥ 80% (see
 * bench/README-noise.md); three baseline runs and two confirmations reach
 * only about 60% at 2σ.
 */
export const PREVIOUS_NOISE_AWARE_DEFAULTS: PreviousNoiseAwareSettings = { baselineRepeats: 5, minDelta: 0, confidence: 0.95, confirmRepeats: 3 };

/** Significance spent at each look before the last: a keep there needs overwhelming evidence. */
const INTERIM_ALPHA = 0.001;

/**
 * Keep a change only when its improvement beats the run-to-run noise.
 *
 * The noise is the standard deviation of one run's metric, pooled over every
 * commit the study measured more than once (the baseline's repeats first,
 * then every confirmation run), with its degrees of freedom. At each look the
 * rule computes Welch-free Student's t for "the candidate's mean improves on
 * the incumbent's mean by more than min_delta":
 *
 *     t = (improvement − min_delta) / (sd · √(1/n_candidate + 1/n_incumbent))
 *
 * and, with at most L = 1 + confirm_repeats looks per decision and
 * α = 1 − confidence:
 * - keep when t reaches the one-sided quantile of t(df) for the α spent at
 *   this look: 0.001 at each look before the last, the rest of α at the last
 *   (Haybittle–Peto). The looks' levels add up to α, so looking repeatedly
 *   cannot keep a change that does nothing more often than α (Bonferroni);
 *   and a close call, decided at the last look, keeps almost all of α;
 * - discard when the measured improvement is not above min_delta (a clear
 *   loser, one run), or when the last look is spent (within the noise);
 * - otherwise ask for one more run: of the incumbent when it has fewer runs
 *   than the candidate, else of the candidate.
 * A clear winner or loser therefore costs one run; only close calls pay for reruns.
 *
 * @example
 * const rule = noiseAwareAcceptance({ baselineRepeats: 3, minDelta: 0, confidence: 0.95, confirmRepeats: 2 });
 * rule.decide({ goal: 'minimize', candidate: [2.0], incumbent: [2.41, 2.39, 2.40] }); // keep: far beyond the noise
 */
export function previousNoiseAwareAcceptance(settings: PreviousNoiseAwareSettings = PREVIOUS_NOISE_AWARE_DEFAULTS): Acceptance {
  checkSettings(settings);
  return {
    name: 'noise-aware',
    baselineRuns: settings.baselineRepeats,
    decide: (input) => decide(settings, input),
  };
}

function decide(settings: PreviousNoiseAwareSettings, input: AcceptanceInput): AcceptanceDecision {
  const candidate = runsOf(input.candidate);
  const incumbent = runsOf(input.incumbent);
  const look = input.look ?? 1;
  const maxLooks = 1 + settings.confirmRepeats;
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
  const rerunSide = incumbent.length < candidate.length ? 'incumbent' : 'candidate';

  if (noise.df === 0) {
    if (look < maxLooks) return { keep: false, rerun: rerunSide, reason: `no noise estimate yet (no commit measured twice): measuring the ${rerunSide} again`, evidence };
    return { keep: false, reason: 'no noise estimate (no commit was measured twice; set acceptance.baseline_repeats ≥ 2): not kept', evidence };
  }
  if (noise.sd === 0) {
    // Every repeat agreed exactly: the metric is deterministic (or the run ignores STRATA_SEED), so any margin is real.
    const note = `repeated runs gave identical metrics (noise 0 over ${noise.df} df; does the run use STRATA_SEED?)`;
    return margin > 0
      ? { keep: true, reason: `better than the best by ${formatNumber(delta)}; ${note}`, evidence }
      : { keep: false, reason: `${delta > 0 ? `better by only ${formatNumber(delta)}` : 'not better'}; ${note}`, evidence };
  }

  const standardError = noise.sd * Math.sqrt(1 / candidate.length + 1 / incumbent.length);
  const alpha = 1 - settings.confidence;
  const lookAlpha = lookAlphaFor(look, maxLooks, alpha);
  const statistic = margin / standardError;
  const threshold = quantile(1 - lookAlpha, noise.df);
  const pValue = 1 - studentTCdf(statistic, noise.df);
  const halfWidth = quantile(1 - alpha / 2, noise.df) * standardError;
  evidence.test = {
    name: 'sequential t (Haybittle-Peto)',
    look,
    maxLooks,
    statistic,
    threshold,
    pValue,
    alpha: lookAlpha,
    interval: [delta - halfWidth, delta + halfWidth],
    confidence: settings.confidence,
  };
  const summary = `improvement ${formatNumber(delta)} ± ${formatNumber(halfWidth)} (${Math.round(settings.confidence * 100)}%), noise sd ${formatNumber(noise.sd)} over ${noise.df} df, ${counts}, ${formatPValue(pValue)}`;
  if (statistic >= threshold) return { keep: true, reason: `beats the noise: ${summary}`, evidence };
  if (margin <= 0) {
    const what = delta <= 0 ? 'not better' : `better by less than min_delta ${formatNumber(settings.minDelta)}`;
    return { keep: false, reason: `${what}: ${summary}`, evidence };
  }
  if (look >= maxLooks) return { keep: false, reason: `within the noise after ${look} looks: ${summary}`, evidence };
  return { keep: false, rerun: rerunSide, reason: `looks better but within the noise (look ${look} of ${maxLooks}): ${summary}; measuring the ${rerunSide} again`, evidence };
}

/** α spent at `look`: INTERIM_ALPHA before the last look, the remainder at the last (never below INTERIM_ALPHA). */
function lookAlphaFor(look: number, maxLooks: number, alpha: number): number {
  if (look < maxLooks) return Math.min(INTERIM_ALPHA, alpha / maxLooks);
  return Math.max(alpha - (maxLooks - 1) * Math.min(INTERIM_ALPHA, alpha / maxLooks), alpha / maxLooks);
}

const quantiles = new Map<string, number>();
/** Quantiles are asked for again and again with the same (p, df); bisection is not free. */
function quantile(p: number, df: number): number {
  const key = `${p}:${df}`;
  let value = quantiles.get(key);
  if (value === undefined) {
    value = studentTQuantile(p, df);
    if (quantiles.size > 10_000) quantiles.clear();
    quantiles.set(key, value);
  }
  return value;
}

function checkSettings(settings: PreviousNoiseAwareSettings): void {
  const problems: string[] = [];
  if (!(Number.isInteger(settings.baselineRepeats) && settings.baselineRepeats >= 2)) problems.push(`baseline_repeats must be an integer ≥ 2, got ${settings.baselineRepeats}`);
  if (!(Number.isInteger(settings.confirmRepeats) && settings.confirmRepeats >= 0)) problems.push(`confirm_repeats must be an integer ≥ 0, got ${settings.confirmRepeats}`);
  if (!(settings.confidence > 0.5 && settings.confidence < 1)) problems.push(`confidence must be between 0.5 and 1, got ${settings.confidence}`);
  if (!(settings.minDelta >= 0)) problems.push(`min_delta must be ≥ 0, got ${settings.minDelta}`);
  if (problems.length > 0) throw new StrataError('invalid_argument', `noise-aware acceptance: ${problems.join('; ')}`, { details: { settings } });
}
