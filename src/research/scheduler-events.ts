/**
 * Ledger events the scheduler adds: a session's slot count (for the duty
 * cycle), an executor's job id (for re-attaching after a restart), and the
 * rebase of a stale winner onto the moved incumbent.
 */
import { registerProjection } from '../ledger/projections.ts';

declare module '../ledger/events.ts' {
  interface LedgerEvents {
    /** An orchestrator session began scheduling with this many slots; the duty cycle's capacity is counted from here. */
    'study.session_started': { studyId: number; slots: number; executor: string; lookahead: number };
    /** The executor named the trial's external job (a SLURM job id) once it had one. */
    'trial.submitted': { trialId: number; externalId: string };
    /**
     * A candidate built on an older best beat its own parent: its change was
     * re-applied onto the current best (`rerun`, queued as `rerunTrialId`) or
     * could not be (`conflict`, with the conflicting paths).
     */
    'trial.rebased': {
      studyId: number;
      trialId: number;
      outcome: 'rerun' | 'conflict';
      ontoCommit: string;
      rebasedCommit: string | null;
      rerunTrialId: number | null;
      conflicts: string[];
    };
  }
}

// The session marker changes no state table: the duty cycle reads it from the event log.
registerProjection('study.session_started', () => {});

registerProjection('trial.submitted', (db, e) => {
  db.prepare('UPDATE trials SET external_id = ? WHERE id = ?').run(e.externalId, e.trialId);
});

registerProjection('trial.rebased', (db, e) => {
  const rebase = { outcome: e.outcome, onto: e.ontoCommit, commit: e.rebasedCommit, rerunTrialId: e.rerunTrialId, conflicts: e.conflicts };
  db.prepare(`UPDATE trials SET meta_json = json_set(COALESCE(meta_json, '{}'), '$.rebase', json(?)) WHERE id = ?`).run(JSON.stringify(rebase), e.trialId);
});
