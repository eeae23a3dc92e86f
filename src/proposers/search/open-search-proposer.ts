import type { ResearchConfig } from '../../core/config/research-config.ts';
import { SearchProposer } from './search-proposer.ts';
import { loadWarmStart, type StudyTrialsReader } from './warm-start.ts';

export interface OpenSearchProposerOptions {
  research: ResearchConfig;
  /** This study's name (warm start may not name it). */
  studyName: string;
  /** The folder holding strata.yaml (a warm-start results.tsv is relative to it). */
  configDir: string;
  /** The ledger, for a warm start from an earlier study. */
  ledger: StudyTrialsReader;
}

/**
 * The search proposer a config describes, with its warm start loaded (a
 * missing study or file fails here, before any trial runs).
 *
 * @example
 * const proposer = await openSearchProposer({ research, studyName: study.name, configDir, ledger });
 */
export async function openSearchProposer({ research, studyName, configDir, ledger }: OpenSearchProposerOptions): Promise<SearchProposer> {
  const { search } = research;
  const warmStart =
    search.warmStart === undefined
      ? undefined
      : await loadWarmStart({ source: search.warmStart, space: research.params, goal: research.metric.goal, studyName, configDir, ledger });
  return new SearchProposer({
    sampler: search.sampler,
    ...(search.startupTrials !== undefined ? { startupTrials: search.startupTrials } : {}),
    ...(search.multivariate !== undefined ? { multivariate: search.multivariate } : {}),
    ...(warmStart !== undefined ? { warmStart } : {}),
  });
}
