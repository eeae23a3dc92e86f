import { createHash } from 'node:crypto';
import { dirname } from 'node:path';
import type { ProposalGuidance, TrialSummary } from '../core/proposer.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { TrialRecord } from '../ledger/records.ts';
import { loadProgram } from '../proposers/agent/research-program.ts';
import type { ResearchConfig } from '../core/config/research-config.ts';

/** What a proposal needs to know of the study to read its guidance. */
export interface GuidanceSource {
  ledger: Ledger;
  study: { id: number };
  research: ResearchConfig;
  configPath: string;
}

/** What a trial records of the guidance it was proposed under (in its meta, as `guidance`). */
export interface GuidanceStamp {
  program: string | null;
  notes: number[];
  notesHash: string | null;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * The guidance a proposal made now reads: the active notes from the ledger
 * and, for proposers that follow a program (agent, command), the program
 * file as it reads now, so an edit during the run counts from the next
 * proposal on.
 *
 * @example
 * const guidance = proposalGuidance(opened); // { notes: [{ id: 1, text: 'leave the tokenizer alone', … }], programHash: '9f…' }
 */
export function proposalGuidance(source: GuidanceSource): ProposalGuidance {
  const notes = source.ledger.oversight.activeNotes(source.study.id).map((note) => ({ id: note.id, text: note.text, author: note.author }));
  if (source.research.proposer === 'search') return { notes, programHash: null };
  const program = loadProgram(source.research, dirname(source.configPath));
  return { notes, program, programHash: sha256(program) };
}

/** The proposer's meta with the guidance stamp added (which program and notes the trial was proposed under). */
export function withGuidance(meta: Record<string, unknown> | null, guidance: ProposalGuidance | undefined): Record<string, unknown> | null {
  if (!guidance) return meta;
  const stamp: GuidanceStamp = {
    program: guidance.programHash,
    notes: guidance.notes.map((note) => note.id),
    notesHash: guidance.notes.length === 0 ? null : sha256(JSON.stringify(guidance.notes.map((note) => [note.id, note.text]))),
  };
  return { ...(meta ?? {}), guidance: stamp };
}

/** The stamp a trial carries, if it was proposed under one. */
export function guidanceStamp(trial: Pick<TrialRecord, 'meta'>): GuidanceStamp | undefined {
  const value = trial.meta?.guidance;
  return value !== null && typeof value === 'object' ? (value as GuidanceStamp) : undefined;
}

/** What a proposer sees of a trial's oversight: the veto's reason, the notes it was proposed under. */
export function oversightFacts(trial: Pick<TrialRecord, 'meta'>): Pick<TrialSummary, 'vetoed' | 'notes'> {
  const veto = trial.meta?.veto as { reason?: unknown } | undefined;
  const stamp = guidanceStamp(trial);
  return {
    ...(veto && typeof veto === 'object' ? { vetoed: String(veto.reason ?? 'vetoed') } : {}),
    ...(stamp && stamp.notes.length > 0 ? { notes: stamp.notes } : {}),
  };
}
