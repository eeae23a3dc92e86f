/**
 * StudyTrials.all() reads incrementally (only the trials events since the last call name): after every kind of
 * write — its own verbs, another connection's, a veto that moves trials it does not name, a rolled-back
 * transaction — it must return exactly what a full read of the ledger returns.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Ledger } from '../../src/ledger/ledger.ts';
import { NO_RUN, StudyTrials } from '../../src/study/study-trials.ts';

function newStudy(ledger: Ledger): number {
  return ledger.transaction(() => {
    const id = ledger.nextId('studies');
    ledger.record('study.created', { studyId: id, name: `s${id}`, kind: 'research', config: {}, configHash: 'h', branch: null, baseCommit: null }, { studyId: id });
    return id;
  });
}

const spec = { role: 'candidate' as const, proposer: 'test', description: 'idea', parentCommit: 'a'.repeat(40), budgetMs: 1000 };

describe('StudyTrials.all(), read incrementally', () => {
  it('equals a full read after its own writes, another connection’s, a veto and a rolled-back transaction', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'strata-cache-')), 'ledger.db');
    const ledger = Ledger.open(path);
    const other = Ledger.open(path);
    try {
      const studyId = newStudy(ledger);
      const elsewhere = newStudy(ledger);
      const trials = new StudyTrials(ledger, studyId);
      const fresh = () => ledger.trials(studyId);
      expect(trials.all()).toEqual([]);

      const first = trials.queue(spec);
      const second = trials.queue({ ...spec, description: 'second' });
      expect(trials.all()).toEqual(fresh());
      trials.start(first, { worktree: '/w', logPath: '/l', executor: 'local', slot: 'slot-0' });
      trials.finish(trials.get(first.id), 'discard', 'run', 'not better', { ...NO_RUN, metric: 2 });
      expect(trials.all()).toEqual(fresh());
      expect(trials.all().map((trial) => trial.status)).toEqual(['discard', 'queued']);

      // Another study's trials never appear; another connection's writes to this one do.
      new StudyTrials(ledger, elsewhere).queue(spec);
      const theirs = new StudyTrials(other, studyId);
      theirs.interrupt(theirs.get(second.id), 'stopped', 'stopped elsewhere');
      theirs.queue({ ...spec, description: 'third' });
      expect(trials.all()).toEqual(fresh());
      expect(trials.all().map((trial) => trial.description)).toEqual(['idea', 'second', 'third']);

      // A veto rewrites trials it does not name (its followers): everything is read again.
      ledger.transaction(() => {
        ledger.record(
          'trial.vetoed',
          {
            studyId,
            trialId: first.id,
            seq: first.seq,
            reason: 'no',
            source: 'cli',
            author: 'me',
            ontoCommit: 'b'.repeat(40),
            branchCommit: 'b'.repeat(40),
            newBestTrialId: first.id,
            followers: [{ trialId: second.id, seq: second.seq, outcome: 'reapplied', commit: 'c'.repeat(40), conflicts: [], requeuedTrialId: null }],
          },
          { studyId, trialId: first.id },
        );
      });
      expect(trials.all()).toEqual(fresh());
      expect(trials.all().find((trial) => trial.id === second.id)!.keptCommit).toBe('c'.repeat(40));

      // A transaction that is rolled back leaves nothing behind in what all() returns.
      expect(() =>
        ledger.transaction(() => {
          trials.queue({ ...spec, description: 'rolled back' });
          expect(trials.all().map((trial) => trial.description)).toContain('rolled back');
          throw new Error('abort');
        }),
      ).toThrow('abort');
      expect(trials.all()).toEqual(fresh());
      trials.queue({ ...spec, description: 'after' });
      expect(trials.all()).toEqual(fresh());
      // The list is the caller's: sorting it changes nothing for the next caller.
      trials.all().reverse();
      expect(trials.all()).toEqual(fresh());
    } finally {
      other.close();
      ledger.close();
    }
  });
});
