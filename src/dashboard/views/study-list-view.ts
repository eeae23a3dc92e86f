import type { LedgerReader } from '../../ledger/ledger-reader.ts';
import { evolveView } from './evolve-view.ts';
import { researchSummaryView } from './research-summary-view.ts';
import { studyHeader, type StudyHeader } from './study-header.ts';

/** One line of the study list. */
export interface StudyListItem extends StudyHeader {
  /** What is optimized and which way: the research metric, or the evolve validation mean. */
  metric: { name: string; goal: 'minimize' | 'maximize' };
  /** Trials (research) or pool candidates (evolve). */
  size: number;
  kept: number;
  running: number;
  best: number | null;
  baseline: number | null;
  improvement_pct: number | null;
  usd: number;
}

/**
 * The study list: every study in the ledger, newest activity first.
 *
 * @example
 * studyListView(reader).map((study) => study.name);
 */
export function studyListView(reader: LedgerReader, now = Date.now()): StudyListItem[] {
  const items = reader.studies().map((study): StudyListItem => {
    if (study.kind === 'evolve') {
      const view = evolveView(reader, study, now);
      const seed = view.seed?.val_mean ?? null;
      const best = view.best?.val_mean ?? null;
      return {
        ...view.study,
        metric: { name: 'validation mean', goal: 'maximize' },
        size: view.candidates.length,
        kept: view.proposals.filter((proposal) => proposal.accepted).length,
        running: 0,
        best,
        baseline: seed,
        improvement_pct: best !== null && seed !== null && seed !== 0 ? ((best - seed) / Math.abs(seed)) * 100 : null,
        usd: view.spend.usd,
      };
    }
    if (study.kind === 'research') {
      // The summary, not the whole view: a study of 20,000 trials is listed from counts.
      const view = researchSummaryView(reader, study, { now, chartPoints: 0 });
      return {
        ...view.study,
        metric: view.metric,
        size: view.finished,
        kept: view.counts.keep ?? 0,
        running: view.running.filter((trial) => trial.status === 'running').length,
        best: view.best?.metric ?? null,
        baseline: view.baseline?.metric ?? null,
        improvement_pct: view.improvement_pct,
        usd: view.spend.usd,
      };
    }
    return { ...studyHeader(study, now), metric: { name: '', goal: 'minimize' }, size: 0, kept: 0, running: 0, best: null, baseline: null, improvement_pct: null, usd: 0 };
  });
  return items.sort((a, b) => b.updated_at.localeCompare(a.updated_at));
}
