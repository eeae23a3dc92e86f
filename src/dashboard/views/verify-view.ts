/**
 * A study's latest verify as the dashboard and the report show it: each kept
 * change's contribution (the best minus the best without it) with its
 * interval and verdict, the best against the baseline, and — once
 * `strata finalize` re-verified its branch — the final branch against the
 * baseline. Read from the verify events and the study's kept and `verify`
 * trials only, so a long study's page does not read every trial.
 */
import type { MetricGoal } from '../../core/trial.ts';
import type { LedgerReader } from '../../ledger/ledger-reader.ts';
import type { StudyRecord } from '../../ledger/records.ts';
import { plansFromEvents, verifyResult, VERIFY_EVENT_TYPES, type Contribution } from '../../verify/verify-record.ts';
import type { Comparison } from '../../verify/welch-comparison.ts';
import { researchMetric } from './research-view.ts';

/** One comparison on the chart's axis (positive = better, whatever the metric's direction). */
export interface ComparisonView {
  improvement: number;
  interval: [number, number];
  confidence: number;
  /** Welch–Satterthwaite degrees of freedom; null when both samples agree exactly (infinite). */
  df: number | null;
  p_value: number;
  runs: [number, number];
}

export interface ContributionView {
  seq: number;
  description: string;
  verdict: Contribution['verdict'];
  comparison: ComparisonView | null;
  /** Why the change could not be left out (its inverse diff did not apply onto the best). */
  conflict: string | null;
}

export interface VerifyView {
  verify_id: number;
  /** Every planned run has a result; false while a verify is unfinished (the figures are partial). */
  complete: boolean;
  repeats: number;
  budget_ms: number;
  env: Record<string, string>;
  runs: { done: number; planned: number };
  metric: { name: string; goal: MetricGoal };
  best_seq: number | null;
  /** The best (all kept changes) against the baseline. */
  overall: ComparisonView | null;
  /** The branch `strata finalize` wrote against the baseline, once it re-verified one from this verify. */
  final: (ComparisonView & { complete: boolean }) | null;
  contributions: ContributionView[];
}

/**
 * The study's latest verify, or null when it has none.
 *
 * @example
 * const verify = verifyView(reader, study);
 * if (verify) contributionsChartSvg(verify, { title: study.name });
 */
export function verifyView(reader: LedgerReader, study: StudyRecord): VerifyView | null {
  if (study.kind !== 'research' || study.baseCommit === null) return null;
  const plans = plansFromEvents(reader.events(study.id, VERIFY_EVENT_TYPES));
  const plan = plans.filter((item) => item.purpose === 'verify').at(-1);
  if (!plan) return null;
  const metric = researchMetric(study);
  const trials = [...reader.trialQueries.kept(study.id), ...reader.trialQueries.ofRole(study.id, 'verify')];
  const result = verifyResult(trials, study, plan, metric.goal);
  const check = plans.filter((item) => item.purpose === 'finalize' && item.basedOnVerifyId === plan.verifyId).at(-1);
  const checked = check ? verifyResult(trials, study, check, metric.goal) : null;
  const best = trials.find((trial) => trial.id === plan.bestTrialId);
  return {
    verify_id: plan.verifyId,
    complete: plan.finished?.complete === true,
    repeats: plan.repeats,
    budget_ms: plan.budgetMs,
    env: plan.env,
    runs: { done: result.runs.done, planned: result.runs.planned },
    metric,
    best_seq: best?.seq ?? null,
    overall: comparisonView(result.overall),
    final: checked?.overall ? { ...comparisonView(checked.overall)!, complete: checked.plan.finished?.complete === true } : null,
    contributions: result.contributions.map((item) => ({
      seq: item.change.seq,
      description: item.change.description,
      verdict: item.verdict,
      comparison: comparisonView(item.comparison),
      conflict: item.conflict,
    })),
  };
}

function comparisonView(comparison: Comparison | null): ComparisonView | null {
  if (comparison === null) return null;
  return {
    improvement: comparison.improvement,
    interval: comparison.interval,
    confidence: comparison.confidence,
    df: Number.isFinite(comparison.df) ? comparison.df : null,
    p_value: comparison.pValue,
    runs: comparison.runs,
  };
}
