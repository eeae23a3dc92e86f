import type { FinalTrialStatus, StudyKind, StudyState, StudyStopCause, TrialCause, TrialRole, TrialStatus } from '../core/trial.ts';

/** A study as read from the ledger. */
export interface StudyRecord {
  id: number;
  name: string;
  kind: StudyKind;
  state: StudyState;
  config: unknown;
  configHash: string;
  branch: string | null;
  baseCommit: string | null;
  bestTrialId: number | null;
  ownerPid: number | null;
  ownerHost: string | null;
  heartbeatAt: string | null;
  stopReason: string | null;
  /** Why it stopped, when it is not running. */
  stopCause: StudyStopCause | null;
  createdAt: string;
  updatedAt: string;
}

/** A trial as read from the ledger. */
export interface TrialRecord {
  id: number;
  studyId: number;
  seq: number;
  role: TrialRole;
  relatedTrialId: number | null;
  parentCommit: string | null;
  candidateCommit: string | null;
  keptCommit: string | null;
  proposer: string;
  description: string;
  diff: string | null;
  params: Record<string, unknown> | null;
  paramsKey: string | null;
  status: TrialStatus;
  /** Why it ended so (null while live). */
  cause: TrialCause | null;
  statusReason: string | null;
  metrics: Record<string, number> | null;
  metric: number | null;
  bestBefore: number | null;
  exitCode: number | null;
  signal: string | null;
  executor: string;
  slot: string | null;
  externalId: string | null;
  budgetMs: number | null;
  seed: number | null;
  worktree: string | null;
  logPath: string | null;
  logTail: string | null;
  peakRssKb: number | null;
  wallMs: number | null;
  attempt: number;
  /** The interrupted trial this is a new attempt of. */
  retryOf: number | null;
  meta: Record<string, unknown> | null;
  queuedAt: string;
  /** Set while a live trial's run is measured and its decision pending. */
  measuredAt: string | null;
  startedAt: string | null;
  endedAt: string | null;
}

export type FinishedTrial = TrialRecord & { status: FinalTrialStatus };

type Row = Record<string, unknown>;
const parse = <T>(value: unknown): T | null => (typeof value === 'string' ? (JSON.parse(value) as T) : null);
const text = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));
const int = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));

export function toStudy(row: Row): StudyRecord {
  return {
    id: Number(row.id),
    name: String(row.name),
    kind: row.kind as StudyKind,
    state: row.state as StudyState,
    config: parse(row.config_json),
    configHash: String(row.config_hash),
    branch: text(row.branch),
    baseCommit: text(row.base_commit),
    bestTrialId: int(row.best_trial_id),
    ownerPid: int(row.owner_pid),
    ownerHost: text(row.owner_host),
    heartbeatAt: text(row.heartbeat_at),
    stopReason: text(row.stop_reason),
    stopCause: (text(row.stop_cause) as StudyStopCause | null) ?? (row.state === 'running' ? null : legacyStopCause(String(row.state), text(row.stop_reason))),
    createdAt: String(row.created_at),
    updatedAt: String(row.updated_at),
  };
}

export function toTrial(row: Row): TrialRecord {
  return {
    id: Number(row.id),
    studyId: Number(row.study_id),
    seq: Number(row.seq),
    role: row.role as TrialRole,
    relatedTrialId: int(row.related_trial_id),
    parentCommit: text(row.parent_commit),
    candidateCommit: text(row.candidate_commit),
    keptCommit: text(row.kept_commit),
    proposer: String(row.proposer),
    description: String(row.description ?? ''),
    diff: text(row.diff),
    params: parse(row.params_json),
    paramsKey: text(row.params_key),
    status: row.status as TrialStatus,
    cause: (text(row.cause) as TrialCause | null) ?? legacyCause(row.status as TrialStatus, text(row.status_reason)),
    statusReason: text(row.status_reason),
    metrics: parse(row.metrics_json),
    metric: row.metric === null || row.metric === undefined ? null : Number(row.metric),
    bestBefore: row.best_before === null || row.best_before === undefined ? null : Number(row.best_before),
    exitCode: int(row.exit_code),
    signal: text(row.signal),
    executor: String(row.executor),
    slot: text(row.slot),
    externalId: text(row.external_id),
    budgetMs: int(row.budget_ms),
    seed: int(row.seed),
    worktree: text(row.worktree),
    logPath: text(row.log_path),
    logTail: text(row.log_tail),
    peakRssKb: int(row.peak_rss_kb),
    wallMs: int(row.wall_ms),
    attempt: Number(row.attempt ?? 1),
    retryOf: int(row.retry_of),
    meta: parse(row.meta_json),
    queuedAt: String(row.queued_at),
    measuredAt: text(row.measured_at),
    startedAt: text(row.started_at),
    endedAt: text(row.ended_at),
  };
}

/**
 * The cause of a trial finished by a release that did not record causes
 * (ledger schema < 3): derived once, here, from the reasons those releases
 * wrote. Nothing else reads reason strings.
 */
function legacyCause(status: TrialStatus, reason: string | null): TrialCause | null {
  if (status === 'queued' || status === 'running') return null;
  const text = reason ?? '';
  if (status === 'interrupted') {
    if (text.startsWith('the orchestrator stopped')) return 'orchestrator-lost';
    if (text.startsWith('orchestrator error')) return 'orchestrator-error';
    if (text.includes('not started before the study stopped')) return 'not-started';
    return 'stopped';
  }
  if (text.startsWith('proposal failed: duplicate')) return 'duplicate';
  if (text.startsWith('proposal failed')) return 'proposal-failed';
  if (text === 'the proposal changed nothing') return 'no-change';
  if (text.startsWith('changed files outside research.editable')) return 'forbidden-change';
  return 'run';
}

/** The stop cause of a study stopped by a release that did not record one (see legacyCause). */
function legacyStopCause(state: string, reason: string | null): StudyStopCause {
  const text = reason ?? '';
  if (/stopped by the user/.test(text)) return 'user';
  if (text.startsWith('the baseline')) return 'baseline-failed';
  if (/proposals in a row failed/.test(text)) return 'proposals-failing';
  if (/unavailable/.test(text)) return 'model-unavailable';
  if (text.startsWith('error:')) return 'error';
  return state === 'done' ? 'complete' : 'error';
}
