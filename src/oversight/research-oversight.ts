/**
 * Oversight of a running research study, wired into its loop with a few
 * named hooks: control requests from another process (a graceful pause, a
 * veto taken under the decision lock), the `pause_on` conditions, and the
 * notifications (new best, paused, done, failed, budget warning).
 */
import { NO_OVERSIGHT } from '../core/config/oversight-config.ts';
import type { TrialRecord } from '../ledger/records.ts';
import type { DecisionLock } from '../research/decision-lock.ts';
import { budgetForRole } from '../research/fidelity.ts';
import type { OpenedStudy } from '../research/open-study.ts';
import type { StopDecision } from '../research/scheduler.ts';
import type { RequestedEnd } from '../study/study-session.ts';
import { Notifier } from './notifier.ts';
import { PauseOnWatch } from './pause-on.ts';
import { describeVeto, vetoTrial, type VetoTarget } from './veto.ts';

/** Share of a budget after which one budget_warning is sent. */
const BUDGET_WARNING_SHARE = 0.8;

/** The hooks run-research.ts calls. */
export interface ResearchOversight {
  /** A pause that waits for the running trials (see SchedulerPolicy.drainCondition). */
  drainCondition(): StopDecision | undefined;
  /** After each finished trial: pause_on conditions, new-best and budget notifications. */
  afterTrial(finished: TrialRecord, budget: { maxTrials?: number; counted: number; maxTimeMs?: number; elapsedMs: number }): void;
  /** Wait (bounded) for notifications in flight and vetoes being applied; before the ledger closes. */
  settle(): Promise<void>;
}

/** The veto target of an opened research study. */
export function vetoTargetOf(opened: OpenedStudy): VetoTarget {
  return {
    ledger: opened.ledger,
    trials: opened.trials,
    repo: opened.repo,
    branch: opened.branch,
    studyName: opened.study.name,
    baseCommit: opened.study.baseCommit!,
    candidateBudgetMs: budgetForRole(opened.research, 'candidate'),
  };
}

/**
 * @example
 * const oversight = watchResearch(opened, decisionLock);
 * policy.drainCondition = () => oversight.drainCondition();
 */
export function watchResearch(opened: OpenedStudy, decisionLock: DecisionLock): ResearchOversight {
  const { ledger, study, session, research } = opened;
  const config = opened.config.oversight ?? NO_OVERSIGHT;
  const notifier = new Notifier({ ledger, studyId: study.id, studyName: study.name, targets: config.notify });
  const watch = new PauseOnWatch(ledger, study.id, config.pauseOn, research.metric.goal);
  let drain: RequestedEnd | undefined;
  const maxUsd = opened.config.llm?.maxUsd;
  const warned = new Set(ledger.oversight.records(study.id, 'oversight.notification').filter((record) => record.payload.topic === 'budget_warning').map(() => 'sent'));

  session.handleControl({
    pause: (end) => {
      drain ??= end;
      return 'pausing after the running trials finish';
    },
    cancelPause: () => {
      if (!drain) return 'not pausing; nothing to resume';
      drain = undefined;
      return 'the pending pause is withdrawn; the study goes on';
    },
    veto: async (request) => {
      const release = await decisionLock.acquire();
      try {
        const result = await vetoTrial(vetoTargetOf(opened), { seq: request.trialSeq ?? -1, reason: request.reason ?? '', source: request.source, author: request.author });
        return describeVeto(result);
      } finally {
        release();
      }
    },
  });
  session.onEnd((state, reason) => {
    if (state === 'paused' || state === 'done' || state === 'failed') notifier.notify(state, `${state}: ${reason}`, { state, reason });
  });

  return {
    drainCondition: () => (drain ? { state: drain.state as StopDecision['state'], reason: drain.reason, cause: drain.cause } : undefined),
    afterTrial(finished, budget) {
      if (finished.status === 'keep' && finished.role !== 'baseline') {
        notifier.notify('new_best', `#${finished.seq} is the new best (${research.metric.name} ${finished.metric}): ${finished.description}`, { trial: finished.seq, metric: finished.metric });
      }
      const trigger = watch.afterTrial(finished);
      if (trigger) drain ??= { state: 'paused', cause: 'oversight', reason: `paused by oversight.pause_on.${trigger.condition}: ${trigger.detail}; review it, then strata resume` };
      // The budget nearest its end: trials, time, or LLM spend against llm.max_usd.
      const shares: [string, number][] = [
        ['max_trials', budget.maxTrials ? budget.counted / budget.maxTrials : 0],
        ['max_time', budget.maxTimeMs ? budget.elapsedMs / budget.maxTimeMs : 0],
        ['llm.max_usd', maxUsd ? ledger.llm.spentUsd(study.id) / maxUsd : 0],
      ];
      const [name, share] = shares.reduce((most, next) => (next[1] > most[1] ? next : most));
      if (share >= BUDGET_WARNING_SHARE && share < 1 && warned.size === 0) {
        warned.add('sent');
        notifier.notify('budget_warning', `${Math.round(share * 100)}% of the study's ${name} budget is spent (after #${finished.seq})`, { share, budget: name, trial: finished.seq });
      }
    },
    async settle() {
      await session.settleControl();
      await notifier.flush(15_000);
    },
  };
}
