import type { DatabaseSync } from 'node:sqlite';
import type { LedgerEvents } from '../events.ts';
import type { OversightSource } from '../events/oversight.ts';
import { prepared } from '../prepared.ts';
import type { EventStore } from './event-store.ts';

/** A researcher's note as proposers and screens see it. */
export interface StudyNote {
  /** Its number within the study (what `strata guide --retire N` takes). */
  id: number;
  text: string;
  author: string;
  source: OversightSource;
  createdAt: string;
  retiredAt: string | null;
}

/** A stored event of one oversight type, with its id and time. */
export interface OversightRecord<T extends keyof LedgerEvents> {
  id: number;
  payload: LedgerEvents[T];
  createdAt: string;
}

/** The guidance stamp (meta.guidance) a trial was proposed under: the program's hash and the active notes. */
export interface GuidanceStampRow {
  seq: number;
  program: string | null;
  notes: number[];
  notesHash: string | null;
}

/**
 * Reads of the oversight events (notes, control requests, vetoes, pause
 * conditions, notification deliveries), which live in the event log.
 */
export class OversightStore {
  private readonly db: DatabaseSync;
  private readonly events: EventStore;

  constructor(db: DatabaseSync, events: EventStore) {
    this.db = db;
    this.events = events;
  }

  /** Every note of a study, oldest first, retired ones with their retirement time. */
  notes(studyId: number): StudyNote[] {
    const retired = new Map(this.records(studyId, 'oversight.note_retired').map((record) => [record.payload.noteId, record.createdAt]));
    return this.records(studyId, 'oversight.note_added').map(({ payload, createdAt }) => ({
      id: payload.noteId,
      text: payload.text,
      author: payload.author,
      source: payload.source,
      createdAt,
      retiredAt: retired.get(payload.noteId) ?? null,
    }));
  }

  /** The notes a proposal made now would read. */
  activeNotes(studyId: number): StudyNote[] {
    return this.notes(studyId).filter((note) => note.retiredAt === null);
  }

  /** Events of `type` for a study, oldest first, optionally only those after event `afterId`. */
  records<T extends keyof LedgerEvents>(studyId: number, type: T, afterId = 0): OversightRecord<T>[] {
    return prepared(this.db, 'SELECT id, payload_json, created_at FROM events WHERE study_id = ? AND type = ? AND id > ? ORDER BY id')
      .all(studyId, type, afterId)
      .map((row) => ({ id: Number(row.id), payload: JSON.parse(String(row.payload_json)) as LedgerEvents[T], createdAt: String(row.created_at) }));
  }

  /**
   * The guidance stamps of a study's own proposals, in trial order. Re-runs,
   * new attempts, rebases and promotions copy their source's stamp and are
   * left out: they were not proposed under the guidance of their time. One
   * small row per proposal, so a study of 20,000 trials reads it at once.
   */
  guidanceStamps(studyId: number): GuidanceStampRow[] {
    return prepared(
      this.db,
      `SELECT seq, json_extract(meta_json, '$.guidance.program') AS program, json_extract(meta_json, '$.guidance.notes') AS notes,
              json_extract(meta_json, '$.guidance.notesHash') AS notes_hash
       FROM trials
       WHERE study_id = ? AND json_type(meta_json, '$.guidance') = 'object' AND retry_of IS NULL
         AND json_type(meta_json, '$.rerunOf') IS NULL AND json_type(meta_json, '$.rebasedFrom') IS NULL AND json_type(meta_json, '$.promotedFrom') IS NULL
       ORDER BY seq`,
    )
      .all(studyId)
      .map((row) => ({
        seq: Number(row.seq),
        program: typeof row.program === 'string' ? row.program : null,
        notes: typeof row.notes === 'string' ? (JSON.parse(row.notes) as unknown[]).map(Number) : [],
        notesHash: typeof row.notes_hash === 'string' ? row.notes_hash : null,
      }));
  }

  /** The id of the newest event in the ledger (0 when empty): a cursor for "what came after". */
  lastEventId(): number {
    return Number((prepared(this.db, 'SELECT COALESCE(MAX(id), 0) AS id FROM events').get() as { id: number }).id);
  }

  /** The newest payload of `type` for a study. */
  last<T extends keyof LedgerEvents>(studyId: number, type: T): LedgerEvents[T] | undefined {
    return this.events.last(studyId, type);
  }
}
