import { describe, expect, it } from 'vitest';
import type { TrialSummary } from '../../../src/core/proposer.ts';
import { chooseRepair, looksLikeCodeBug } from '../../../src/proposers/agent/crash-repair.ts';
import { digestHistory, estimateTokens } from '../../../src/proposers/agent/history-digest.ts';

let nextId = 1;
function trial(seq: number, status: TrialSummary['status'], description: string, extra: Partial<TrialSummary> = {}): TrialSummary {
  return {
    id: nextId++,
    seq,
    status,
    description,
    metric: status === 'keep' || status === 'discard' ? 3 - seq * 0.01 : null,
    delta: status === 'keep' ? 0.01 : status === 'discard' ? -0.02 : null,
    params: null,
    paramsKey: null,
    diff: `diff for ${seq}`,
    logTail: null,
    parentCommit: 'p',
    candidateCommit: `c${seq}`,
    reason: status === 'crash' ? 'exit code 1' : null,
    cause: status === 'running' || status === 'queued' ? null : 'run',
    relatedTrialId: null,
    ...extra,
  };
}

function longHistory(n: number): TrialSummary[] {
  const statuses: TrialSummary['status'][] = ['discard', 'discard', 'crash', 'keep', 'discard', 'timeout', 'invalid'];
  return Array.from({ length: n }, (_, i) =>
    i === 0 ? trial(0, 'keep', 'baseline (unmodified)', { candidateCommit: 'p' }) : trial(i, statuses[i % statuses.length]!, `idea number ${i}: ${'tweak '.repeat(i % 9)}the optimizer`),
  );
}

const options = { metric: 'val_bpb', goal: 'minimize' as const, recentTrials: 8 };

describe('digestHistory', () => {
  it('shows the lineage, failed ideas and recent trials in full when they fit', () => {
    const history = longHistory(20);
    const text = digestHistory(history, { ...options, maxTokens: 100_000 });
    expect(text).toMatch(/^20 trials so far: /);
    expect(text).toContain('Best lineage');
    expect(text).toContain('#3 keep val_bpb=2.97 (+0.01): idea number 3');
    expect(text).toContain('Tried before and did not help');
    expect(text).toContain('#2 crash val_bpb=- : idea number 2'.replace(' :', ':'));
    expect(text).toContain('[exit code 1]');
    expect(text).toContain('Most recent 8 trials');
    expect(text).toContain('#19 ');
  });

  it('fits any budget deterministically, folding older history into counts instead of dropping it', () => {
    const history = longHistory(400);
    for (const maxTokens of [8000, 2000, 600, 250]) {
      const text = digestHistory(history, { ...options, maxTokens });
      expect(estimateTokens(text), `budget ${maxTokens}`).toBeLessThanOrEqual(maxTokens);
      expect(text).toBe(digestHistory(history, { ...options, maxTokens }));
      expect(text).toMatch(/^400 trials so far: /);
    }
    const tight = digestHistory(history, { ...options, maxTokens: 2000 });
    expect(tight).toMatch(/… \d+ earlier ideas that did not help: /);
    expect(tight).toContain('#399 ');
  });

  it('says so when nothing has finished', () => {
    expect(digestHistory([], { ...options, maxTokens: 100 })).toBe('No trials have finished yet.');
  });
});

describe('crash repair', () => {
  const traceback = 'Traceback (most recent call last):\n  File "train.py", line 9, in <module>\nNameError: name "lr2" is not defined';

  it('recognizes stack traces in common languages, but not resource limits', () => {
    expect(looksLikeCodeBug(traceback)).toBe(true);
    expect(looksLikeCodeBug('file:///w/train.mjs:3\nTypeError: x is not a function\n    at main (file:///w/train.mjs:3:9)')).toBe(true);
    expect(looksLikeCodeBug("thread 'main' panicked at src/main.rs:4:5")).toBe(true);
    expect(looksLikeCodeBug('Traceback (most recent call last):\ntorch.OutOfMemoryError: CUDA out of memory')).toBe(false);
    expect(looksLikeCodeBug('Killed')).toBe(false);
    expect(looksLikeCodeBug('loss went up, giving up')).toBe(false);
    expect(looksLikeCodeBug(null)).toBe(false);
  });

  it('repairs the latest crash with a stack trace, from its candidate, linked to the idea, up to max_fix_attempts', () => {
    const first = trial(5, 'crash', 'wider layers', { logTail: traceback });
    const history = [trial(0, 'keep', 'baseline', { candidateCommit: 'p' }), first];
    expect(chooseRepair(history, 2)).toEqual({ from: first, relatedTrialId: first.id });
    expect(chooseRepair(history, 0)).toBeUndefined();

    const fix1 = trial(6, 'crash', 'fix #5: typo', { logTail: traceback, relatedTrialId: first.id });
    expect(chooseRepair([...history, fix1], 2)).toEqual({ from: fix1, relatedTrialId: first.id });
    const interrupted = trial(7, 'interrupted', '', { relatedTrialId: first.id, candidateCommit: null });
    const fix2 = trial(8, 'crash', 'fix #5: again', { logTail: traceback, relatedTrialId: first.id });
    expect(chooseRepair([...history, fix1, interrupted, fix2], 2)).toBeUndefined();
    expect(chooseRepair([...history, fix1, interrupted], 2)).toEqual({ from: fix1, relatedTrialId: first.id });
  });

  it('starts no second fix while one is in flight (parallel slots)', () => {
    const first = trial(5, 'crash', 'wider layers', { logTail: traceback });
    const running = trial(6, 'running', '', { relatedTrialId: first.id, candidateCommit: null });
    expect(chooseRepair([first, running], 2)).toBeUndefined();
  });

  it('moves on after a crash without a stack trace, a later trial, or a crashed baseline', () => {
    const noTrace = trial(5, 'crash', 'x', { logTail: 'Killed' });
    expect(chooseRepair([noTrace], 2)).toBeUndefined();
    expect(chooseRepair([trial(5, 'crash', 'x', { logTail: traceback }), trial(6, 'discard', 'y')], 2)).toBeUndefined();
    expect(chooseRepair([trial(0, 'crash', 'baseline', { logTail: traceback, candidateCommit: 'p' })], 2)).toBeUndefined();
  });
});
