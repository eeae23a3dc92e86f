/**
 * Research events beyond a trial's life: the acceptance rule a study runs
 * under and the evidence behind each decision, re-checks of the incumbent,
 * the sealed holdout results (a table of their own, never joined into what
 * proposers read), and what the scheduler adds (a session's slot count, an
 * executor's job id, the rebase of a stale winner).
 *
 * To add an event: a key and payload in `ResearchEvents`, and its projection
 * in `researchProjections` (the type checker insists on both); texts that can
 * grow (reasons, logs, replies) get a bound in `researchBounds`.
 */
import type { AcceptanceEvidence } from '../../core/acceptance.ts';
import { boundNullable, boundText, TEXT_LIMITS } from '../bounded-text.ts';
import { prepared } from '../prepared.ts';
import { eventOnly, finite, json, type PayloadBounds, type Projections } from './projection.ts';

/** What the decision on a trial rested on, kept in its meta as `acceptance`. */
export interface TrialAssessment {
  rule: string;
  /** Runs of the trial's commit the decision used (its own and its reruns). */
  runs: number;
  /** Looks at the candidate (1 + reruns asked for). */
  looks: number;
  evidence: AcceptanceEvidence | null;
  /** A sanity limit that made the first measurement suspect. */
  suspect: string | null;
  /** What the sandbox or the stages noticed (leftover processes killed, a metric printed by `run` ignored). */
  notes: string[];
}

export type HoldoutStatus = 'measured' | 'crash' | 'timeout' | 'invalid' | 'interrupted';

/** One sealed holdout result. */
export interface HoldoutResult {
  trialId: number;
  status: HoldoutStatus;
  metric: number | null;
  metrics: Record<string, number> | null;
  reason: string | null;
  wallMs: number | null;
  logPath: string | null;
  createdAt: string;
}

export interface ResearchEvents {
  /** The acceptance rule a study runs under, recorded when it first starts (noise-aware for new studies unless the config names one). */
  'study.acceptance_chosen': { studyId: number; rule: string };
  /** The evidence behind the decision on a trial. */
  'trial.assessed': { trialId: number; assessment: TrialAssessment };
  /** The incumbent was run again: does it still beat the best it replaced? */
  'trial.rechecked': { studyId: number; trialId: number; parentTrialId: number | null; checkTrialId: number; stillBetter: boolean; reason: string };
  /** The sealed holdout stage ran for a trial that became the best. */
  'trial.holdout_measured': Omit<HoldoutResult, 'createdAt'> & { studyId: number };
  /** An orchestrator session began scheduling with this many slots; the duty cycle's capacity is counted from here. */
  /** `speculate` is absent when off (and in events written before speculation). */
  'study.session_started': { studyId: number; slots: number; executor: string; lookahead: number; speculate?: boolean };
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
  /**
   * A speculative proposal (`executor.speculate`) went stale before it ran: trial `keptTrialId` was kept meanwhile.
   * The trial goes back to `queued` on the new best (`ontoCommit`) without a candidate, to be proposed again from
   * `rebasedCommit` (its change re-applied onto the new best; null on a conflict). The stale proposal's commit stays
   * on `staleRef`; `meta.speculation.stale` counts the proposals this trial has wasted.
   */
  'trial.speculation_stale': {
    studyId: number;
    trialId: number;
    keptTrialId: number;
    keptSeq: number;
    staleCommit: string;
    staleRef: string;
    description: string;
    ontoCommit: string;
    rebasedCommit: string | null;
    conflicts: string[];
  };
}

/** Set one key of a trial's meta_json. */
function setTrialMeta(db: Parameters<typeof prepared>[0], trialId: number, key: 'acceptance' | 'recheck' | 'rebase', value: unknown): void {
  prepared(db, `UPDATE trials SET meta_json = json_set(COALESCE(meta_json, '{}'), '$.${key}', json(?)) WHERE id = ?`).run(JSON.stringify(value), trialId);
}

export const researchProjections: Projections<ResearchEvents> = {
  // The rule is read back from the event log (ResearchStore.acceptanceRule); no state table holds it.
  'study.acceptance_chosen': eventOnly,
  'trial.assessed': (db, e) => setTrialMeta(db, e.trialId, 'acceptance', e.assessment),
  'trial.rechecked': (db, e, at) =>
    setTrialMeta(db, e.trialId, 'recheck', { parentTrialId: e.parentTrialId, checkTrialId: e.checkTrialId, stillBetter: e.stillBetter, reason: e.reason, at }),
  'trial.holdout_measured': (db, e, at) => {
    prepared(
      db,
      `INSERT OR REPLACE INTO holdout_results (trial_id, study_id, status, metric, metrics_json, reason, wall_ms, log_path, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(e.trialId, e.studyId, e.status, finite(e.metric), json(e.metrics), e.reason, e.wallMs, e.logPath, at);
  },
  // The session marker changes no state table: the duty cycle reads it from the event log.
  'study.session_started': eventOnly,
  'trial.submitted': (db, e) => {
    prepared(db, 'UPDATE trials SET external_id = ? WHERE id = ?').run(e.externalId, e.trialId);
  },
  'trial.rebased': (db, e) =>
    setTrialMeta(db, e.trialId, 'rebase', { outcome: e.outcome, onto: e.ontoCommit, commit: e.rebasedCommit, rerunTrialId: e.rerunTrialId, conflicts: e.conflicts }),
  'trial.speculation_stale': (db, e) => {
    const speculation = {
      keptTrialId: e.keptTrialId,
      keptSeq: e.keptSeq,
      staleCommit: e.staleCommit,
      description: e.description,
      rebasedCommit: e.rebasedCommit,
      conflicts: e.conflicts,
    };
    prepared(
      db,
      `UPDATE trials SET parent_commit = ?, candidate_commit = NULL, diff = NULL,
         meta_json = json_set(json_set(COALESCE(meta_json, '{}'), '$.speculation', json(?)), '$.speculation.stale', COALESCE(json_extract(meta_json, '$.speculation.stale'), 0) + 1)
       WHERE id = ?`,
    ).run(e.ontoCommit, JSON.stringify(speculation), e.trialId);
  },
};

export const researchBounds: PayloadBounds<ResearchEvents> = {
  // The stages' notes quote what a run printed or why it was stopped.
  'trial.assessed': (e) => ({ ...e, assessment: { ...e.assessment, notes: e.assessment.notes.map((note) => boundText(note, TEXT_LIMITS.reason)) } }),
  'trial.rechecked': (e) => ({ ...e, reason: boundText(e.reason, TEXT_LIMITS.reason) }),
  'trial.holdout_measured': (e) => ({ ...e, reason: boundNullable(e.reason, TEXT_LIMITS.reason) }),
  'trial.speculation_stale': (e) => ({ ...e, description: boundText(e.description, TEXT_LIMITS.description) }),
};
