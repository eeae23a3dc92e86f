import type { FinalTrialStatus, StudyKind, StudyState, TrialRole } from '../core/trial.ts';

/**
 * The typed event map. Every change to the ledger's state tables is one of
 * these, written to the append-only `events` table in the same transaction
 * as its projection (see projections.ts), so the tables can be rebuilt from
 * events alone. Ids are assigned before the event is written, so a replay
 * reproduces them exactly.
 */
export interface LedgerEvents {
  'study.created': {
    studyId: number;
    name: string;
    kind: StudyKind;
    config: unknown;
    configHash: string;
    branch: string | null;
    baseCommit: string | null;
  };
  'study.state_changed': { studyId: number; state: StudyState; reason: string | null };
  'study.config_changed': { studyId: number; config: unknown; configHash: string };
  'trial.queued': {
    studyId: number;
    trialId: number;
    seq: number;
    role: TrialRole;
    proposer: string;
    description: string;
    parentCommit: string | null;
    relatedTrialId: number | null;
    params: Record<string, unknown> | null;
    paramsKey: string | null;
    budgetMs: number;
    seed: number | null;
    attempt: number;
  };
  'trial.started': {
    trialId: number;
    worktree: string | null;
    logPath: string | null;
    executor: string;
    slot: string | null;
    externalId: string | null;
  };
  'trial.proposed': {
    trialId: number;
    description: string;
    candidateCommit: string | null;
    diff: string;
    params: Record<string, unknown> | null;
    paramsKey: string | null;
    meta: Record<string, unknown> | null;
  };
  'trial.finished': {
    trialId: number;
    status: FinalTrialStatus;
    reason: string | null;
    metrics: Record<string, number> | null;
    metric: number | null;
    bestBefore: number | null;
    exitCode: number | null;
    signal: string | null;
    wallMs: number | null;
    peakRssKb: number | null;
    logTail: string | null;
  };
  'trial.kept': { studyId: number; trialId: number; keptCommit: string };
}

export type LedgerEventType = keyof LedgerEvents;

/** One stored event. */
export interface StoredEvent<T extends LedgerEventType = LedgerEventType> {
  id: number;
  studyId: number | null;
  trialId: number | null;
  type: T;
  payload: LedgerEvents[T];
  createdAt: string;
}
