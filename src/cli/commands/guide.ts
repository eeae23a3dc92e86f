import { OversightError, UsageError } from '../../core/errors.ts';
import { safeJson, terminalLine } from '../../core/terminal-text.ts';
import type { OversightSource } from '../../ledger/events.ts';
import type { Ledger } from '../../ledger/ledger.ts';
import type { StudyNote } from '../../ledger/stores/oversight-store.ts';
import { currentAuthor } from '../../oversight/control-request.ts';
import { openOversightTarget, type OversightTargetOptions } from './oversight-target.ts';

export interface GuideCommandOptions extends OversightTargetOptions {
  /** The note to add. */
  text?: string;
  list?: boolean;
  /** The number of a note to retire. */
  retire?: string;
  author?: string;
  json?: boolean;
  out?: NodeJS.WritableStream;
}

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

/** `strata guide "note" | --list | --retire N`. */
export async function guideCommand(options: GuideCommandOptions): Promise<number> {
  const out = options.out ?? process.stdout;
  const modes = [options.text !== undefined, Boolean(options.list), options.retire !== undefined].filter(Boolean).length;
  if (modes !== 1) throw new UsageError('give one of: a note in quotes (strata guide "leave the tokenizer alone"), --list, or --retire N');
  const { ledger, study } = openOversightTarget(options);
  try {
    const who = { author: options.author ?? currentAuthor(), source: 'cli' as const };
    if (options.list) {
      const notes = ledger.oversight.notes(study.id);
      if (options.json) out.write(`${safeJson(notes, 2)}\n`);
      else if (notes.length === 0) out.write(`study ${study.name} has no notes yet; add one with strata guide "…"\n`);
      else out.write(`${notes.map(describeNote).join('\n')}\n`);
      return 0;
    }
    if (options.retire !== undefined) {
      const id = Number(options.retire);
      if (!Number.isInteger(id) || id < 1) throw new UsageError(`--retire takes a note's number, got "${options.retire}" (strata guide --list shows them)`);
      const note = retireNote(ledger, study.id, id, who);
      out.write(options.json ? `${safeJson(note, 2)}\n` : `retired note ${note.id} of study ${study.name}; proposals from now on no longer read it\n`);
      return 0;
    }
    const note = addNote(ledger, study.id, { text: options.text!, ...who });
    out.write(options.json ? `${safeJson(note, 2)}\n` : `note ${note.id} added to study ${study.name}; the next proposal reads it (strata guide --retire ${note.id} to withdraw it)\n`);
    return 0;
  } finally {
    ledger.close();
  }
}

function describeNote(note: StudyNote): string {
  const state = note.retiredAt === null ? 'active' : `retired ${note.retiredAt.slice(0, 16).replace('T', ' ')}`;
  return `${String(note.id).padStart(3)}  ${note.createdAt.slice(0, 16).replace('T', ' ')}  ${terminalLine(note.author)} (${note.source}) · ${state}\n     ${terminalLine(note.text)}`;
}
