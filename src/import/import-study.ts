import { createHash } from 'node:crypto';
import { improvement, isStrictlyBetter, type MetricGoal, type TrialRole } from '../core/trial.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { StudyRecord } from '../ledger/records.ts';
import type { BranchHistory } from './branch-history.ts';
import { ImportError } from './import-error.ts';
import type { ResultsTable } from './results-tsv.ts';

export interface ImportStudyInput {
  name: string;
  goal: MetricGoal;
  table: ResultsTable;
  history: BranchHistory;
  /** Where the rows came from, for the study's stop reason and config (e.g. `results.tsv`). */
  source: string;
  /** The research section the imported study is recorded with (the repository's strata.yaml, when it has one). */
  research?: Record<string, unknown>;
}

/** The proposer name imported trials carry. */
export const IMPORTED_PROPOSER = 'autoresearch';

/**
 * Record a finished autoresearch run as a study in the ledger, through the
 * same events a live study writes (study.created, trial.queued/proposed/
 * finished/kept, study.state_changed), so it rebuilds from events, and
 * `status`, `export`, `report` and the dashboard show it like any other.
 * Each row becomes a trial in file order; its parent is the commit git
 * records (else the incumbent at the time), its diff what git still has.
 *
 * @example
 * const study = importStudy(ledger, { name: 'autoresearch-mar5', goal: 'minimize', table, history, source: 'results.tsv' });
 */
export function importStudy(ledger: Ledger, input: ImportStudyInput): StudyRecord {
  const { table, history, goal } = input;
  if (ledger.studyByName(input.name)) {
    throw new ImportError(`the ledger already has a study named "${input.name}": pass --name <another> to import again`, { name: input.name });
  }
  const config = {
    name: input.name,
    research: { ...input.research, metric: { ...(input.research?.metric as object | undefined), name: table.metric, goal } },
    imported: { from: input.source, branch: history.branch, tip: history.tip, columns: table.columns, rows: table.rows.length, unlisted_commits: history.unlisted },
  };
  return ledger.transaction(() => {
    const studyId = ledger.nextId('studies');
    const refs = { studyId };
    ledger.record(
      'study.created',
      {
        studyId,
        name: input.name,
        kind: 'research',
        config,
        configHash: createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 16),
        branch: history.branch,
        baseCommit: history.base,
      },
      refs,
    );
    let incumbent: { metric: number | null; commit: string | null } = { metric: null, commit: history.base };
    table.rows.forEach((row, seq) => {
      const trialId = ledger.nextId('trials');
      const trialRefs = { studyId, trialId };
      const facts = history.commits.get(row.commit);
      const baseline = seq === 0 && /baseline/i.test(row.description);
      const role: TrialRole = baseline ? 'baseline' : 'candidate';
      const parent = baseline ? (facts?.commit ?? history.base) : (facts?.parent ?? incumbent.commit);
      ledger.record(
        'trial.queued',
        {
          studyId,
          trialId,
          seq,
          role,
          proposer: baseline ? 'baseline' : IMPORTED_PROPOSER,
          description: row.description,
          parentCommit: parent,
          relatedTrialId: null,
          params: null,
          paramsKey: null,
          budgetMs: 0,
          seed: null,
          attempt: 1,
        },
        trialRefs,
      );
      ledger.record(
        'trial.proposed',
        {
          trialId,
          description: row.description,
          candidateCommit: facts?.commit ?? null,
          diff: facts?.diff ?? '',
          params: null,
          paramsKey: null,
          meta: { imported: { source: input.source, line: row.line, commit: row.commit, cells: row.cells, ...(facts ? { subject: facts.subject, committed_at: facts.committedAt } : {}) } },
        },
        trialRefs,
      );
      const metrics = { ...row.metrics, ...(row.metric === null ? {} : { [table.metric]: row.metric }) };
      const where = `${input.source} line ${row.line}`;
      ledger.record(
        'trial.finished',
        {
          trialId,
          status: row.status,
          reason: facts ? `imported from ${where}` : `imported from ${where}; commit ${row.commit} is no longer in the repository`,
          metrics: Object.keys(metrics).length > 0 ? metrics : null,
          metric: row.metric,
          bestBefore: incumbent.metric,
          exitCode: null,
          signal: null,
          wallMs: null,
          peakRssKb: null,
          logTail: null,
        },
        trialRefs,
      );
      if (row.status === 'keep' && facts) {
        ledger.record('trial.kept', { studyId, trialId, keptCommit: facts.commit }, trialRefs);
        incumbent = { metric: row.metric, commit: facts.commit };
      }
    });
    const best = ledger.study(studyId).bestTrialId;
    const bestMetric = best === null ? null : ledger.trial(best).metric;
    const baselineMetric = table.rows[0]?.metric ?? null;
    const gain = bestMetric !== null && baselineMetric !== null && isStrictlyBetter(bestMetric, baselineMetric, goal) ? improvement(bestMetric, baselineMetric, goal) : null;
    ledger.record(
      'study.state_changed',
      {
        studyId,
        state: 'done',
        reason: `imported ${table.rows.length} experiments from ${input.source}${history.branch ? ` and branch ${history.branch}` : ''}${gain !== null ? ` (best improves on the baseline by ${Number(gain.toPrecision(6))})` : ''}`,
      },
      refs,
    );
    return ledger.study(studyId);
  });
}
