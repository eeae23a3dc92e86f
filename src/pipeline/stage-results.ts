import { evolveStatus } from '../evolve/evolve-status.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { StudyRecord, TrialRecord } from '../ledger/records.ts';
import { countsAgainstMaxTrials } from '../research/run-research.ts';
import { summarizeStudy } from '../research/study-summary.ts';
import type { StageBest, StageSpend } from '../ledger/events.ts';

/**
 * The studies a stage ran: its own study and, for an evolve stage with a
 * research evaluator, every evaluation study (`<stage study>/…`).
 */
export function stageStudies(ledger: Ledger, studyName: string): { own: StudyRecord | undefined; evaluations: StudyRecord[] } {
  const prefix = `${studyName}/`;
  return { own: ledger.studyByName(studyName), evaluations: ledger.studies().filter((study) => study.name.startsWith(prefix)) };
}

/**
 * What a stage has spent so far, read from the ledger: counted trials, all
 * runs, trial wall seconds, USD (its own model calls and its evaluations'),
 * and metric calls for an evolve stage.
 *
 * @example
 * stageSpend(ledger, 'evolve', 'tiny-lm-pipeline/explore'); // { trials: 24, runs: 24, trialSeconds: 310.2, usd: 0.41, evaluations: 4, metricCalls: 8 }
 */
export function stageSpend(ledger: Ledger, kind: 'research' | 'evolve', studyName: string): StageSpend {
  const { own, evaluations } = stageStudies(ledger, studyName);
  const researchStudies = kind === 'research' ? (own ? [own] : []) : evaluations;
  const trials: TrialRecord[] = researchStudies.flatMap((study) => ledger.trials(study.id));
  const finished = trials.filter((trial) => trial.status !== 'queued' && trial.status !== 'running' && trial.status !== 'interrupted');
  const usd = [...(own ? [own] : []), ...evaluations].reduce((sum, study) => sum + ledger.llm.spentUsd(study.id), 0);
  let metricCalls: number | null = null;
  if (kind === 'evolve') {
    metricCalls = own ? ledger.evolve.metricCalls(own.id) : 0;
  }
  return {
    trials: finished.filter(countsAgainstMaxTrials).length,
    runs: finished.length,
    trialSeconds: finished.reduce((sum, trial) => sum + (trial.wallMs ?? 0), 0) / 1000,
    usd,
    evaluations: kind === 'evolve' ? evaluations.length : 0,
    metricCalls,
  };
}

/**
 * The best a stage has found so far: for research the best kept commit and
 * metric beside the baseline, for evolve the best candidate's components and
 * validation mean beside the seed's. `commit` of an evolve stage is only
 * known once the stage finished (it is made then), so it is null here.
 */
export function stageBest(ledger: Ledger, kind: 'research' | 'evolve', studyName: string): StageBest | null {
  const study = ledger.studyByName(studyName);
  if (!study) return null;
  if (kind === 'research') {
    const summary = summarizeStudy(ledger, study);
    return {
      commit: summary.best?.commit ?? summary.baseline?.commit ?? null,
      metric: summary.best?.metric ?? null,
      baseline: summary.baseline?.metric ?? null,
      score: null,
      components: null,
    };
  }
  const status = evolveStatus(ledger, study.id);
  if (!status.best) return null;
  return { commit: null, metric: null, baseline: status.seed_val_mean, score: status.best.val_mean, components: status.best.components };
}

/** Sum spends (a pipeline's totals). */
export function addSpend(a: StageSpend, b: StageSpend): StageSpend {
  return {
    trials: a.trials + b.trials,
    runs: a.runs + b.runs,
    trialSeconds: a.trialSeconds + b.trialSeconds,
    usd: a.usd + b.usd,
    evaluations: a.evaluations + b.evaluations,
    metricCalls: a.metricCalls === null && b.metricCalls === null ? null : (a.metricCalls ?? 0) + (b.metricCalls ?? 0),
  };
}

export const NO_SPEND: StageSpend = { trials: 0, runs: 0, trialSeconds: 0, usd: 0, evaluations: 0, metricCalls: null };
