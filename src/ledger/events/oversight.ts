/**
 * Human oversight: notes that steer the proposers, control requests from
 * another process (pause, stop, resume), vetoes of kept trials, the
 * `pause_on` conditions that fired, and notification deliveries. Each names
 * its source (`cli`, `dashboard`, `study` for what the loop itself did).
 *
 * Notes, requests, conditions and deliveries live in the event log alone
 * (read through OversightStore); a veto changes the study's best and the
 * re-applied trials' kept commits, so it has a projection.
 */
import { boundNullable, boundText, TEXT_LIMITS } from '../bounded-text.ts';
import { prepared } from '../prepared.ts';
import { eventOnly, type PayloadBounds, type Projections } from './projection.ts';

/** Who asked: a person at the command line, a person on the dashboard, or the study's own loop. */
export type OversightSource = 'cli' | 'dashboard' | 'study';

/** What another process can ask a running orchestrator to do. */
export type ControlAction = 'pause' | 'pause-now' | 'stop' | 'resume' | 'veto';

/** A note's text is the user's; it is bounded like a reason and escaped wherever it is shown. */
export const NOTE_LIMIT = 2_000;

/** A later keep after a vetoed one: re-applied onto the rebuilt branch, or in conflict and queued again. */
export interface VetoFollower {
  trialId: number;
  seq: number;
  outcome: 'reapplied' | 'conflict';
  /** Its new kept commit (reapplied) or null. */
  commit: string | null;
  conflicts: string[];
  /** The candidate queued in its place (conflict). */
  requeuedTrialId: number | null;
}

export interface OversightEvents {
  'oversight.note_added': { studyId: number; noteId: number; text: string; author: string; source: OversightSource };
  'oversight.note_retired': { studyId: number; noteId: number; author: string; source: OversightSource };
  /** Another process asks the study's orchestrator to act (`veto` carries the trial and reason). */
  'oversight.control_requested': {
    studyId: number;
    action: ControlAction;
    source: OversightSource;
    author: string;
    reason: string | null;
    trialSeq?: number | null;
  };
  /** The orchestrator took the request up (its event id); `outcome` in words. */
  'oversight.control_applied': { studyId: number; requestId: number; action: ControlAction; outcome: string };
  /** A kept trial was vetoed: the branch was rebuilt without it onto `ontoCommit`, its followers re-applied or re-queued. */
  'trial.vetoed': {
    studyId: number;
    trialId: number;
    seq: number;
    reason: string;
    source: OversightSource;
    author: string;
    ontoCommit: string;
    branchCommit: string;
    newBestTrialId: number;
    followers: VetoFollower[];
  };
  /** An `oversight.pause_on` condition was met by a trial (or, for spend, by crossing a multiple). */
  'oversight.pause_triggered': { studyId: number; condition: string; trialId: number | null; detail: string; step?: number | null };
  /** A notification left (delivered) or gave up (failed), after `attempts` tries; `target` is a label, never a URL. */
  'oversight.notification': { studyId: number; topic: string; target: string; outcome: 'delivered' | 'failed'; attempts: number; detail: string | null };
}

function setMeta(db: Parameters<typeof prepared>[0], trialId: number, key: 'veto' | 'vetoReapplied', value: unknown): void {
  prepared(db, `UPDATE trials SET meta_json = json_set(COALESCE(meta_json, '{}'), '$.${key}', json(?)) WHERE id = ?`).run(JSON.stringify(value), trialId);
}

export const oversightProjections: Projections<OversightEvents> = {
  'oversight.note_added': eventOnly,
  'oversight.note_retired': eventOnly,
  'oversight.control_requested': eventOnly,
  'oversight.control_applied': eventOnly,
  'trial.vetoed': (db, e, at) => {
    setMeta(db, e.trialId, 'veto', { reason: e.reason, source: e.source, author: e.author, at });
    for (const follower of e.followers) {
      if (follower.outcome === 'reapplied') {
        setMeta(db, follower.trialId, 'vetoReapplied', { after: e.seq, at });
        prepared(db, 'UPDATE trials SET kept_commit = ? WHERE id = ?').run(follower.commit, follower.trialId);
      } else {
        setMeta(db, follower.trialId, 'veto', { reason: `its change conflicts with the branch rebuilt without #${e.seq} (${follower.conflicts.join(', ')}); queued again`, source: e.source, author: e.author, at, after: e.seq });
      }
    }
    prepared(db, 'UPDATE studies SET best_trial_id = ?, updated_at = ? WHERE id = ?').run(e.newBestTrialId, at, e.studyId);
  },
  'oversight.pause_triggered': eventOnly,
  'oversight.notification': eventOnly,
};

export const oversightBounds: PayloadBounds<OversightEvents> = {
  'oversight.note_added': (e) => ({ ...e, text: boundText(e.text, NOTE_LIMIT), author: boundText(e.author, 200) }),
  'oversight.note_retired': (e) => ({ ...e, author: boundText(e.author, 200) }),
  'oversight.control_requested': (e) => ({ ...e, reason: boundNullable(e.reason, TEXT_LIMITS.reason), author: boundText(e.author, 200) }),
  'trial.vetoed': (e) => ({ ...e, reason: boundText(e.reason, TEXT_LIMITS.reason), author: boundText(e.author, 200) }),
  'oversight.notification': (e) => ({ ...e, detail: boundNullable(e.detail, TEXT_LIMITS.reason) }),
  // An outcome can carry an error (a veto whose git work failed); a detail quotes a trial's reason.
  'oversight.control_applied': (e) => ({ ...e, outcome: boundText(e.outcome, TEXT_LIMITS.reason) }),
  'oversight.pause_triggered': (e) => ({ ...e, detail: boundText(e.detail, TEXT_LIMITS.reason) }),
};
