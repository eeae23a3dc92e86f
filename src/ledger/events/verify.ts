/**
 * Verify events: the plan of a `strata verify` (or the re-verification by
 * `strata finalize`) and its end. Event-only facts: the runs themselves are
 * trials of role `verify` in the study (linked by `meta.verify` and
 * `meta.arm`), so every number a verify reports is backed by trials.
 */
import type { StudyState, StudyStopCause } from '../../core/trial.ts';
import { boundNullable, TEXT_LIMITS } from '../bounded-text.ts';
import { eventOnly, type PayloadBounds, type Projections } from './projection.ts';

/** One commit a verify measures `repeats` times. */
export interface VerifyArm {
  /** Stable key within the plan: `baseline`, `best`, `without-<seq>`, `final`. */
  key: string;
  kind: 'baseline' | 'best' | 'without' | 'final';
  /** What the table shows, e.g. `best without #7`. */
  label: string;
  commit: string;
  /** For `without`: the kept trial whose change this arm leaves out. */
  changeTrialId: number | null;
}

/** A kept change whose inverse diff does not apply onto the best: its contribution cannot be measured by leaving it out. */
export interface VerifyConflict {
  changeTrialId: number;
  message: string;
}

export interface VerifyEvents {
  /** A verify began: what it measures and how. A resumed verify continues its plan; it is not planned again. */
  'verify.planned': {
    studyId: number;
    verifyId: number;
    purpose: 'verify' | 'finalize';
    repeats: number;
    budgetMs: number;
    /** Variables set for every run on top of research.env (`--env K=V`). */
    env: Record<string, string>;
    arms: VerifyArm[];
    conflicts: VerifyConflict[];
    /** The best trial the plan was made from; finalize: the verify it builds on. */
    bestTrialId: number;
    basedOnVerifyId: number | null;
    /** The study's state before the first session of this verify began; restored when it ends. */
    prior: { state: StudyState; reason: string | null; cause: StudyStopCause | null };
  };
  /** Every planned run has a result (complete) or the verify stopped early (max time, Ctrl-C). */
  'verify.finished': { studyId: number; verifyId: number; complete: boolean; reason: string | null };
}

export const verifyProjections: Projections<VerifyEvents> = {
  'verify.planned': eventOnly,
  'verify.finished': eventOnly,
};

export const verifyBounds: PayloadBounds<VerifyEvents> = {
  'verify.finished': (e) => ({ ...e, reason: boundNullable(e.reason, TEXT_LIMITS.reason) }),
};
