/**
 * A synthetic study for acceptance rules: the metric of one run is the
 * commit's true value plus Gaussian noise of sd 1 (so improvements are in
 * units of σ), lower is better. It drives a rule the way the research loop
 * does: the baseline measured `baselineRuns` times, then candidates judged
 * against the incumbent with every rerun the rule asks for (of the baseline
 * too, while it is the incumbent), the runs of each commit kept and pooled for
 * the noise estimate, a keep making the candidate the incumbent (its runs so
 * far are the ones that got it kept; only later ones count as fresh). Used by bench/noise.ts (the table) and by
 * test/acceptance/noise-benchmark.test.ts (the same figures with fixed seeds).
 */
import type { Acceptance } from '../src/core/acceptance.ts';
import { Random } from '../src/core/random.ts';

export interface NoiseSimulationOptions {
  acceptance: Acceptance;
  /** The true improvement of a candidate over the incumbent, in units of σ (0: a change that does nothing). */
  trueImprovement: number;
  /** Fraction of candidates that carry `trueImprovement`; the rest change nothing. Default 1. */
  improvingFraction?: number;
  /** Candidate decisions per simulated study; 1 = every decision is the first of a fresh study. */
  decisionsPerStudy: number;
  /** How many studies to simulate. */
  studies: number;
  seed: number | string;
}

export interface NoiseSimulationResult {
  decisions: number;
  kept: number;
  /** Fraction of decisions that kept the candidate. */
  keepRate: number;
  /** Keep rate among candidates that change nothing (NaN when there were none). */
  noOpKeepRate: number;
  /** Keep rate among candidates that carry the true improvement (NaN when there were none). */
  improvingKeepRate: number;
  /** Runs per decision: the candidate's first run, its reruns and the incumbent's reruns (the baseline's first `baselineRuns` excluded). */
  runsPerDecision: number;
  /** Every run of the study, the baseline's first ones included, per decision: what a night costs. */
  allRunsPerDecision: number;
  /** Baseline runs per study before the first candidate. */
  baselineRuns: number;
  /** Baseline runs per study in all (the first ones and those decisions asked for). */
  baselineRunsInAll: number;
}

/**
 * Simulate `studies` studies and count keeps.
 *
 * @example
 * simulateAcceptance({ acceptance: strictAcceptance, trueImprovement: 0, decisionsPerStudy: 1, studies: 10000, seed: 1 }).keepRate; // ≈ 0.5
 */
export function simulateAcceptance(options: NoiseSimulationOptions): NoiseSimulationResult {
  const random = Random.fromSeed(options.seed);
  const baselineRuns = options.acceptance.baselineRuns ?? 1;
  let kept = 0;
  let runs = 0;
  let decisions = 0;
  let baselineRunsInAll = 0;
  const byKind = { noOp: { decisions: 0, kept: 0 }, improving: { decisions: 0, kept: 0 } };
  for (let study = 0; study < options.studies; study++) {
    let incumbentTrue = 0;
    let incumbent: number[] = Array.from({ length: baselineRuns }, () => incumbentTrue + random.normal());
    let incumbentIsBaseline = true;
    // Runs of the incumbent measured before it was kept (0 for the baseline: nothing selected it).
    let selectionRuns = 0;
    baselineRunsInAll += baselineRuns;
    const others: number[][] = [];
    for (let step = 0; step < options.decisionsPerStudy; step++) {
      const improving = options.trueImprovement !== 0 && random.next() < (options.improvingFraction ?? 1);
      const kind = improving ? byKind.improving : byKind.noOp;
      kind.decisions += 1;
      const candidateTrue = incumbentTrue - (improving ? options.trueImprovement : 0);
      const candidate = [candidateTrue + random.normal()];
      runs += 1;
      decisions += 1;
      for (let look = 1; ; look++) {
        const decision = options.acceptance.decide({ goal: 'minimize', candidate, incumbent, incumbentFreshRuns: incumbent.length - selectionRuns, otherRuns: others, look });
        if (decision.rerun === 'candidate') candidate.push(candidateTrue + random.normal());
        else if (decision.rerun === 'incumbent') {
          incumbent.push(incumbentTrue + random.normal());
          if (incumbentIsBaseline) baselineRunsInAll += 1;
        }
        if (decision.rerun) {
          runs += 1;
          continue;
        }
        if (decision.keep) {
          kept += 1;
          kind.kept += 1;
          others.push(incumbent);
          incumbent = candidate;
          incumbentTrue = candidateTrue;
          incumbentIsBaseline = false;
          selectionRuns = candidate.length;
        } else {
          others.push(candidate);
        }
        break;
      }
    }
  }
  return {
    decisions,
    kept,
    keepRate: kept / decisions,
    noOpKeepRate: byKind.noOp.kept / byKind.noOp.decisions,
    improvingKeepRate: byKind.improving.kept / byKind.improving.decisions,
    runsPerDecision: runs / decisions,
    allRunsPerDecision: (runs + baselineRuns * options.studies) / decisions,
    baselineRuns,
    baselineRunsInAll: baselineRunsInAll / options.studies,
  };
}
