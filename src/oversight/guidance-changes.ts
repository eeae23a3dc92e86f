import type { GuidanceStampRow } from '../ledger/stores/oversight-store.ts';

/** A change of the guidance between two proposals: the program file was edited, or notes were added or retired. */
export interface GuidanceChange {
  /** The first trial proposed under the new guidance. */
  before: number;
  kind: 'program' | 'notes';
  /** The program's sha256 (kind program) or the active note numbers joined (`1, 3`; `none`), before and after. */
  from: string | null;
  to: string | null;
}

/**
 * Where the guidance changed during a study, from the stamps of its proposals
 * in trial order (see OversightStore.guidanceStamps): each time the program's
 * hash or the active notes differ from the proposal before.
 *
 * @example
 * guidanceChanges(ledger.oversight.guidanceStamps(study.id));
 * // [{ before: 12, kind: 'program', from: 'a1b2c3…', to: 'd4e5f6…' }]
 */
export function guidanceChanges(stamps: readonly GuidanceStampRow[]): GuidanceChange[] {
  const changes: GuidanceChange[] = [];
  for (let index = 1; index < stamps.length; index++) {
    const previous = stamps[index - 1]!;
    const stamp = stamps[index]!;
    if (stamp.program !== previous.program) changes.push({ before: stamp.seq, kind: 'program', from: previous.program, to: stamp.program });
    // Notes are never edited, only added and retired: their numbers say it all.
    if (noteList(stamp.notes) !== noteList(previous.notes)) changes.push({ before: stamp.seq, kind: 'notes', from: noteList(previous.notes), to: noteList(stamp.notes) });
  }
  return changes;
}

/**
 * A change in words: `program changed before #12 (a1b2c3d4 → d4e5f6a7)`,
 * `notes changed before #9 (active notes none → 1, 2)`.
 */
export function describeGuidanceChange(change: GuidanceChange): string {
  if (change.kind === 'program') return `program changed before #${change.before} (${shortHash(change.from)} → ${shortHash(change.to)})`;
  return `notes changed before #${change.before} (active notes ${change.from} → ${change.to})`;
}

const noteList = (notes: readonly number[]) => (notes.length === 0 ? 'none' : notes.join(', '));
const shortHash = (hash: string | null) => (hash === null ? 'none' : hash.slice(0, 8));
