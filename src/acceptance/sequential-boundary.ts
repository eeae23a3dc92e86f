/**
 * The boundaries of the noise-aware rule's group-sequential test, on the z
 * scale (the statistic divided by its standard error, as if the noise were
 * known exactly; the rule turns each into a t threshold with the same tail).
 *
 * A decision looks at the candidate after each of its runs, m = 1 … M, the
 * incumbent holding n runs:
 * - before the last look: keep when z ≥ INTERIM_EFFICACY_Z (overwhelming
 *   evidence), discard when z < futility(m) (binding: the rule always stops);
 * - at the last look: keep when z ≥ the final threshold.
 * The final threshold is calibrated so that a candidate that changes nothing
 * is kept with probability exactly α over all M looks, the futility stops
 * included: they take away paths that could only have been kept later, which
 * Bonferroni's sum of per-look levels would waste.
 */
import { Random } from '../core/random.ts';

/** z needed to keep before the last look (one-sided p ≈ 0.00003: an early keep needs overwhelming evidence). */
export const INTERIM_EFFICACY_Z = 4;

/** Paths simulated per calibration: the calibrated α is exact up to ±0.0007 (one standard error). */
const CALIBRATION_PATHS = 100_000;

/**
 * The futility bound at look m of M (m < M): a candidate whose z falls below it stops.
 * It rises with the candidate's runs: a candidate still short of it after more runs is unlikely to be a real gain.
 *
 * @example
 * futilityZ(1, 5); // 0.475
 */
export function futilityZ(look: number, maxLooks: number): number {
  return 0.95 * Math.sqrt(look / (maxLooks - 1));
}

const finals = new Map<string, number>();

/**
 * The z the last look must reach so that, over every look, a change that does
 * nothing is kept with probability α, against an incumbent of `incumbentRuns`
 * runs. Computed once per (looks, runs, α) by simulating the looks of a change
 * that does nothing with a fixed seed (deterministic), and cached.
 *
 * @example
 * finalEfficacyZ(5, 6, 0.05); // ≈ 1.4: below the one-look 1.645, since futility stops are binding
 */
export function finalEfficacyZ(maxLooks: number, incumbentRuns: number, alpha: number): number {
  const key = `${maxLooks}:${incumbentRuns}:${alpha}`;
  const cached = finals.get(key);
  if (cached !== undefined) return cached;
  const random = Random.fromSeed(`strata:sequential-boundary:${key}`);
  const bounds = Array.from({ length: maxLooks - 1 }, (_, index) => futilityZ(index + 1, maxLooks));
  let keptEarly = 0;
  const lastLook: number[] = [];
  for (let path = 0; path < CALIBRATION_PATHS; path++) {
    // The incumbent's mean error and the candidate's running sum, in units of one run's noise.
    const incumbentError = random.normal() / Math.sqrt(incumbentRuns);
    let candidateSum = 0;
    for (let look = 1; look <= maxLooks; look++) {
      candidateSum += random.normal();
      const z = (incumbentError - candidateSum / look) / Math.sqrt(1 / look + 1 / incumbentRuns);
      if (look === maxLooks) {
        lastLook.push(z);
      } else if (z >= INTERIM_EFFICACY_Z) {
        keptEarly += 1;
        break;
      } else if (z < bounds[look - 1]!) {
        break;
      }
    }
  }
  const allowed = Math.floor(alpha * CALIBRATION_PATHS) - keptEarly;
  lastLook.sort((a, b) => b - a);
  const value = allowed <= 0 ? Number.POSITIVE_INFINITY : allowed >= lastLook.length ? Number.NEGATIVE_INFINITY : (lastLook[allowed - 1]! + lastLook[allowed]!) / 2;
  if (finals.size > 1_000) finals.clear();
  finals.set(key, value);
  return value;
}
