/**
 * Trials as entities: every change of a trial's state is a named
 * transition with a typed cause, written to the ledger (event + projection
 * in one transaction) before anything acts on it. Nothing else writes
 * trial events, so no decision has to parse a reason string, and the life
 * of a trial reads as its verbs:
 *
 *   queue → propose → start → measure → keep | discard (finish)
 *                         ↘ finish (crash, timeout, invalid)
 *   any live state → interrupt → (a new attempt: retry) | (measured: the decision resumes)
 */
import type { FinalTrialStatus, TrialCause, TrialRole } from '../core/trial.ts';
import type { LedgerEvents } from '../ledger/events.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { TrialRecord } from '../ledger/records.ts';

/** A new trial: what it runs and why. */
export interface TrialSpec {
  role: TrialRole;
  proposer: string;
  description: string;
  parentCommit: string | null;
  /** The trial it measures again or derives from (a repeat's subject, a promotion's screen, a rebase's stale winner). */
  relatedTrialId?: number | null;
  /** The interrupted trial this is a new attempt of. */
  retryOf?: number | null;
  params?: Record<string, unknown> | null;
  paramsKey?: string | null;
  budgetMs: number;
  seed?: number | null;
  attempt?: number;
  /** Known already (repeats, re-runs, promotions, rebases): recorded as its proposal in the same transaction. */
  candidate?: { commit: string; diff: string; meta?: Record<string, unknown> | null };
}

/** What a run produced, recorded on the trial when it is measured or finished. */
export interface RunFacts {
  metrics: Record<string, number> | null;
  metric: number | null;
  exitCode: number | null;
  signal: string | null;
  wallMs: number | null;
  peakRssKb: number | null;
  logTail: string | null;
}

export const NO_RUN: RunFacts = { metrics: null, metric: null, exitCode: null, signal: null, wallMs: null, peakRssKb: null, logTail: null };

/**
 * The trials of one study.
 *
 * @example
 * const trials = new StudyTrials(ledger, study.id);
 * const trial = trials.queue({ role: 'candidate', proposer: 'search', description: '', parentCommit: best, budgetMs: 300_000 });
 * trials.start(trial, { worktree, logPath, executor: 'local', slot: 'slot-0' });
 * trials.finish(trial, 'crash', 'run', 'exit code 1', facts);
 */
export class StudyTrials {
  readonly ledger: Ledger;
  readonly studyId: number;
  /** `all()`'s rows as of event `lastEventId`. */
  private cache: { lastEventId: number; byId: Map<number, TrialRecord>; list: TrialRecord[] } | undefined;

  constructor(ledger: Ledger, studyId: number) {
    this.ledger = ledger;
    this.studyId = studyId;
  }

  get(id: number): TrialRecord {
    return this.ledger.trial(id);
  }

  /**
   * Every trial of the study, in seq order. Read incrementally: after the first call only the trials that events
   * since then name are read again (the scheduler asks on every turn; at 20,000 trials a full read parses every row's
   * JSON, about 0.2–0.4 s). A change events cannot place (a veto) reads everything again.
   */
  all(): TrialRecord[] {
    // Inside a transaction what is read may be rolled back (and its event ids used again): read it all, cache nothing.
    if (this.ledger.inTransaction) {
      this.cache = undefined;
      return this.ledger.trials(this.studyId);
    }
    const changes = this.ledger.eventLog.trialChangesSince(this.studyId, this.cache?.lastEventId ?? Number.MAX_SAFE_INTEGER);
    if (!this.cache || changes.everything) {
      const list = this.ledger.trials(this.studyId);
      this.cache = { lastEventId: changes.lastId, byId: new Map(list.map((trial) => [trial.id, trial])), list };
      return [...list];
    }
    if (changes.lastId !== this.cache.lastEventId) {
      let added = false;
      for (const id of changes.trialIds) {
        const trial = this.ledger.trialOrUndefined(id);
        if (!trial || trial.studyId !== this.studyId) continue;
        if (!this.cache.byId.has(id)) added = true;
        this.cache.byId.set(id, trial);
      }
      this.cache.list = added ? [...this.cache.byId.values()].sort((a, b) => a.seq - b.seq) : this.cache.list.map((trial) => this.cache!.byId.get(trial.id)!);
      this.cache.lastEventId = changes.lastId;
    }
    return [...this.cache.list];
  }


  /** The incumbent: the trial whose commit is the study's best, if any. */
  best(): TrialRecord | undefined {
    const id = this.ledger.study(this.studyId).bestTrialId;
    return id === null ? undefined : this.ledger.trial(id);
  }

  /** Queue a new trial (and its known candidate). */
  queue(spec: TrialSpec): TrialRecord {
    const { ledger } = this;
    return ledger.transaction(() => {
      const trialId = ledger.nextId('trials');
      const seq = ledger.nextTrialSeq(this.studyId);
      ledger.record(
        'trial.queued',
        {
          studyId: this.studyId,
          trialId,
          seq,
          role: spec.role,
          proposer: spec.proposer,
          description: spec.description,
          parentCommit: spec.parentCommit,
          relatedTrialId: spec.relatedTrialId ?? null,
          retryOf: spec.retryOf ?? null,
          params: spec.params ?? null,
          paramsKey: spec.paramsKey ?? null,
          budgetMs: spec.budgetMs,
          seed: spec.seed ?? null,
          attempt: spec.attempt ?? 1,
        },
        this.refs(trialId),
      );
      if (spec.candidate) {
        ledger.record(
          'trial.proposed',
          {
            trialId,
            description: spec.description,
            candidateCommit: spec.candidate.commit,
            diff: spec.candidate.diff,
            params: spec.params ?? null,
            paramsKey: spec.paramsKey ?? null,
            meta: spec.candidate.meta ?? null,
          },
          this.refs(trialId),
        );
      }
      return ledger.trial(trialId);
    });
  }

  /** Record the proposal (its committed candidate, or null when it changed nothing). */
  propose(trial: TrialRecord, proposal: Omit<LedgerEvents['trial.proposed'], 'trialId'>): TrialRecord {
    this.ledger.record('trial.proposed', { trialId: trial.id, ...proposal }, this.refs(trial.id));
    return this.get(trial.id);
  }

  /** Its run begins (in this worktree, writing this log, on this slot). */
  start(trial: TrialRecord, where: { worktree: string | null; logPath: string | null; executor: string; slot: string | null; externalId?: string | null }): TrialRecord {
    this.ledger.record('trial.started', { trialId: trial.id, externalId: null, ...where }, this.refs(trial.id));
    return this.get(trial.id);
  }

  /** An executor gave its run a job id (a restarted orchestrator re-attaches to it). */
  submitted(trialId: number, externalId: string): void {
    this.ledger.record('trial.submitted', { trialId, externalId }, this.refs(trialId));
  }

  /**
   * Its run measured a valid metric; the decision comes next. The trial
   * stays live with its measurement in the ledger, so a stop during the
   * decision (reruns, confirmations) resumes the decision instead of losing it.
   */
  measure(trial: TrialRecord, facts: RunFacts & { metric: number }): TrialRecord {
    this.ledger.record('trial.measured', { trialId: trial.id, ...facts }, this.refs(trial.id));
    return this.get(trial.id);
  }

  /** End the trial: its final status, why (typed), the reason in words, and what its run produced. */
  finish(trial: TrialRecord, status: FinalTrialStatus, cause: TrialCause, reason: string | null, facts: RunFacts = NO_RUN, bestBefore?: number | null): TrialRecord {
    this.ledger.record(
      'trial.finished',
      { trialId: trial.id, status, cause, reason, bestBefore: bestBefore === undefined ? (this.best()?.metric ?? null) : bestBefore, ...facts },
      this.refs(trial.id),
    );
    return this.get(trial.id);
  }

  /** End the trial `keep`: its commit is the new best (one transaction; the branch follows). */
  keep(trial: TrialRecord, keptCommit: string, reason: string, facts: RunFacts, bestBefore: number | null): TrialRecord {
    return this.ledger.transaction(() => {
      this.finish(trial, 'keep', 'run', reason, facts, bestBefore);
      this.ledger.record('trial.kept', { studyId: this.studyId, trialId: trial.id, keptCommit }, this.refs(trial.id));
      return this.get(trial.id);
    });
  }

  /** A live trial stops without a result; a measured one keeps its measurement for the decision that resumes it. */
  interrupt(trial: TrialRecord, cause: Extract<TrialCause, 'stopped' | 'orchestrator-lost' | 'not-started' | 'orchestrator-error'>, reason: string): TrialRecord {
    const current = this.get(trial.id);
    if (current.status !== 'queued' && current.status !== 'running') return current;
    const wallMs = current.wallMs ?? (current.startedAt ? Date.now() - Date.parse(current.startedAt) : null);
    return this.finish(current, 'interrupted', cause, reason, { ...NO_RUN, wallMs, metric: null }, current.bestBefore);
  }

  /** Queue a fresh attempt of an interrupted trial: same candidate, same seed, linked to it. */
  retry(trial: TrialRecord, budgetMs: number): TrialRecord {
    return this.queue({
      role: trial.role,
      proposer: trial.proposer,
      description: trial.description,
      parentCommit: trial.parentCommit,
      relatedTrialId: trial.relatedTrialId,
      retryOf: trial.id,
      params: trial.params,
      paramsKey: trial.paramsKey,
      budgetMs,
      seed: trial.seed,
      attempt: trial.attempt + 1,
      ...(trial.candidateCommit ? { candidate: { commit: trial.candidateCommit, diff: trial.diff ?? '', meta: { ...(trial.meta ?? {}), rerunOf: trial.seq } } } : {}),
    });
  }

  private refs(trialId: number) {
    return { studyId: this.studyId, trialId };
  }
}

/** Is the trial live with a measured run whose decision has not been made (a stop cut it short)? */
export function awaitsDecision(trial: TrialRecord): boolean {
  return trial.status === 'running' && trial.measuredAt !== null;
}
