import { OversightError, UsageError } from '../core/errors.ts';
import type { OversightSource } from '../ledger/events.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { StudyNote } from '../ledger/stores/oversight-store.ts';

/**
 * Add a note to a study (the agent and command proposers, and evolve's
 * reflector, read it at their next proposal), or retire one. Works whether
 * or not the study is running. Returns the note as recorded.
 *
 * @example
 * addNote(ledger, study.id, { text: 'leave the tokenizer alone', author: 'ada', source: 'cli' });
 */
export function addNote(ledger: Ledger, studyId: number, note: { text: string; author: string; source: OversightSource }): StudyNote {
  const text = note.text.trim();
  if (text === '') throw new UsageError('a note needs text, e.g. strata guide "try rotary embeddings; leave the tokenizer alone"');
  return ledger.transaction(() => {
    const noteId = ledger.oversight.notes(studyId).length + 1;
    ledger.record('oversight.note_added', { studyId, noteId, text, author: note.author, source: note.source }, { studyId });
    return ledger.oversight.notes(studyId).find((other) => other.id === noteId)!;
  });
}

/** Retire note `noteId`: proposals from now on no longer read it. */
export function retireNote(ledger: Ledger, studyId: number, noteId: number, who: { author: string; source: OversightSource }): StudyNote {
  return ledger.transaction(() => {
    const notes = ledger.oversight.notes(studyId);
    const note = notes.find((other) => other.id === noteId);
    if (!note) throw new OversightError(`no note ${noteId} in this study${notes.length ? `; its notes are 1–${notes.length} (strata guide --list)` : ' (it has none yet)'}`, { noteId });
    if (note.retiredAt !== null) throw new OversightError(`note ${noteId} was retired already`, { noteId });
    ledger.record('oversight.note_retired', { studyId, noteId, author: who.author, source: who.source }, { studyId });
    return ledger.oversight.notes(studyId).find((other) => other.id === noteId)!;
  });
}

