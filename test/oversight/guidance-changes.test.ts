import { describe, expect, it } from 'vitest';
import { describeGuidanceChange, guidanceChanges } from '../../src/oversight/guidance-changes.ts';

const stamp = (seq: number, program: string | null, notes: number[] = []) => ({ seq, program, notes, notesHash: notes.length ? `h${notes.join()}` : null });

describe('guidanceChanges', () => {
  it('names the first trial proposed under each new program and each new set of notes, also a change back', () => {
    const changes = guidanceChanges([stamp(1, 'a'.repeat(64)), stamp(2, 'a'.repeat(64)), stamp(4, 'b'.repeat(64), [1]), stamp(5, 'b'.repeat(64), [1, 2]), stamp(7, 'a'.repeat(64), [2])]);
    expect(changes.map(describeGuidanceChange)).toEqual([
      'program changed before #4 (aaaaaaaa → bbbbbbbb)',
      'notes changed before #4 (active notes none → 1)',
      'notes changed before #5 (active notes 1 → 1, 2)',
      'program changed before #7 (bbbbbbbb → aaaaaaaa)',
      'notes changed before #7 (active notes 1, 2 → 2)',
    ]);
    expect(guidanceChanges([stamp(1, null), stamp(2, null)])).toEqual([]);
    expect(guidanceChanges([])).toEqual([]);
  });
});
