import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { boundJson, boundText, TEXT_LIMITS } from '../../src/ledger/bounded-text.ts';
import { checkLedger } from '../../src/ledger/ledger-check.ts';
import { Ledger } from '../../src/ledger/ledger.ts';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

describe('bounded texts', () => {
  it('keeps a text that fits, and past the limit its start (or end) with its length and sha256, within the limit', () => {
    expect(boundText('short', 10)).toBe('short');
    const long = `${'a'.repeat(500)}${'z'.repeat(500)}`;
    const head = boundText(long, 200);
    expect(head.length).toBeLessThanOrEqual(200);
    expect(head).toMatch(new RegExp(`^a+…\\[truncated: 1000 chars, sha256 ${sha(long)}\\]$`));
    const tail = boundText(long, 200, 'tail');
    expect(tail).toMatch(new RegExp(`^…\\[truncated: 1000 chars, sha256 ${sha(long)}\\]z+$`));
    expect(boundJson({ a: 1 }, 100)).toEqual({ a: 1 });
    expect(boundJson({ a: 'x'.repeat(300) }, 200)).toMatch(/^\{"a":"x+…\[truncated: 308 chars/);
  });

  it('bounds what a trial records (reason, log tail, diff) before the event is written, so the log and the tables agree', () => {
    const ledger = Ledger.open(':memory:');
    ledger.record('study.created', { studyId: 1, name: 's', kind: 'research', config: {}, configHash: 'h', branch: 'strata/s', baseCommit: 'abc' }, { studyId: 1 });
    ledger.record('trial.queued', { studyId: 1, trialId: 1, seq: 0, role: 'baseline', proposer: 'baseline', description: 'd', parentCommit: 'abc', relatedTrialId: null, params: null, paramsKey: null, budgetMs: 1000, seed: 1, attempt: 1 }, { studyId: 1, trialId: 1 });
    ledger.record('trial.proposed', { trialId: 1, description: 'd', candidateCommit: 'def', diff: '+'.repeat(1_000_000), params: null, paramsKey: null, meta: null }, { studyId: 1, trialId: 1 });
    const log = `${'noise\n'.repeat(100_000)}Traceback: the real error`;
    const stored = ledger.record(
      'trial.finished',
      { trialId: 1, status: 'crash', reason: `exit code 1: ${'why '.repeat(10_000)}`, metrics: null, metric: null, bestBefore: null, exitCode: 1, signal: null, wallMs: 5, peakRssKb: null, logTail: log },
      { studyId: 1, trialId: 1 },
    );
    expect(stored.logTail!.length).toBeLessThanOrEqual(TEXT_LIMITS.logTail);
    expect(stored.logTail!.endsWith('Traceback: the real error')).toBe(true);
    const trial = ledger.trial(1);
    expect(trial.logTail).toBe(stored.logTail);
    expect(trial.statusReason!.length).toBeLessThanOrEqual(TEXT_LIMITS.reason);
    expect(trial.diff!.length).toBeLessThanOrEqual(TEXT_LIMITS.diff);
    expect((ledger.events().at(-1)!.payload as { logTail: string }).logTail).toBe(stored.logTail);
    expect(checkLedger(ledger).ok).toBe(true);
    ledger.close();
  });

  it('bounds the texts oversight and decisions record from errors and trials: an outcome, a pause detail, a decision note', () => {
    const ledger = Ledger.open(':memory:');
    ledger.record('study.created', { studyId: 1, name: 's', kind: 'research', config: {}, configHash: 'h', branch: 'strata/s', baseCommit: 'abc' }, { studyId: 1 });
    ledger.record('trial.queued', { studyId: 1, trialId: 1, seq: 0, role: 'baseline', proposer: 'baseline', description: 'd', parentCommit: 'abc', relatedTrialId: null, params: null, paramsKey: null, budgetMs: 1000, seed: 1, attempt: 1 }, { studyId: 1, trialId: 1 });
    const huge = `git said: ${'conflict '.repeat(200_000)}`;
    // A veto whose git work failed acknowledges with the error; a pause names the trial's reason; a decision keeps the stages' notes.
    const outcome = ledger.record('oversight.control_applied', { studyId: 1, requestId: 1, action: 'veto', outcome: `failed: ${huge}` }, { studyId: 1 });
    const pause = ledger.record('oversight.pause_triggered', { studyId: 1, condition: 'crash_streak', trialId: 1, detail: `3 trials in a row crashed (the last #0: ${huge})`, step: null }, { studyId: 1 });
    const assessed = ledger.record('trial.assessed', { trialId: 1, assessment: { rule: 'strict', runs: 1, looks: 1, evidence: null, suspect: null, notes: [huge, 'leftover processes killed'] } }, { studyId: 1, trialId: 1 });
    expect(outcome.outcome.length).toBeLessThanOrEqual(TEXT_LIMITS.reason);
    expect(outcome.outcome).toMatch(/^failed: git said: conflict .*…\[truncated: \d+ chars, sha256 [0-9a-f]{64}\]$/);
    expect(pause.detail.length).toBeLessThanOrEqual(TEXT_LIMITS.reason);
    expect(assessed.assessment.notes.map((note) => note.length <= TEXT_LIMITS.reason)).toEqual([true, true]);
    expect(assessed.assessment.notes[1]).toBe('leftover processes killed');
    expect((ledger.trial(1).meta as { acceptance: { notes: string[] } }).acceptance.notes).toEqual(assessed.assessment.notes);
    expect(JSON.stringify(ledger.events()).length).toBeLessThan(5 * TEXT_LIMITS.reason + 10_000);
    expect(checkLedger(ledger).ok).toBe(true);
    ledger.close();
  });
});
