import type { TrialRecord } from '../ledger/records.ts';
import type { StudySummary } from './study-summary.ts';

/** What happened when a study (re)started after an unclean stop. */
export interface RecoveryReport {
  interrupted: number[];
  requeued: number[];
  /** Trials whose cluster job outlived the last orchestrator: followed to their end, not re-run. */
  reattached: number[];
  /** Trials measured before the stop whose decision (reruns, confirmations) resumes now. */
  resumedDecisions: number[];
  /** Repeat runs measured before the last stop but not yet recorded as finished: settled with their measurement. */
  settledRepeats: number[];
  /** Trial processes a killed orchestrator left running, killed before their trials run again. */
  killedProcesses: number;
  prunedWorktrees: string[];
  branchRepaired: boolean;
  /** The study branch points somewhere the ledger never put it (moved outside Strata): the study pauses until it is put back. */
  branchMoved: { tip: string; best: string } | null;
}

/** Progress callbacks for a running study; presentation lives in the CLI. All optional. */
export interface ResearchObserver {
  studyStarted?(info: {
    study: string;
    branch: string;
    budgetMs: number;
    proposer: string;
    resumed: boolean;
    recovery: RecoveryReport;
    warnings: string[];
    /** The acceptance rule's name (strict, threshold, noise-aware). */
    acceptance?: string;
    /** What the sandbox enforces for trials, in one line. */
    sandbox?: string;
  }): void;
  trialStarted?(trial: TrialRecord): void;
  trialOutput?(trial: TrialRecord, chunk: string): void;
  trialFinished?(trial: TrialRecord, best: TrialRecord | undefined): void;
  proposalFailed?(seq: number, message: string): void;
  studyFinished?(summary: StudySummary): void;
}
