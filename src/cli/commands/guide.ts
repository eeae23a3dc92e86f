import { UsageError } from '../../core/errors.ts';
import { safeJson, terminalLine } from '../../core/terminal-text.ts';
import type { StudyNote } from '../../ledger/stores/oversight-store.ts';
import { currentAuthor } from '../../oversight/control-request.ts';
import { addNote, retireNote } from '../../oversight/notes.ts';
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
