/**
 * Every ledger event, composed statically: the typed event map and the table
 * of projections, whatever entry point loaded the ledger. Each area declares
 * its events, payload types and projections in `events/<area>.ts`; an area is
 * added here once, and the mapped `Projections` type makes an event without a
 * projection a type error.
 *
 * Every change to the ledger's state tables is one of these events, written
 * to the append-only `events` table in the same transaction as its
 * projection, so the tables can be rebuilt from events alone.
 */
import { coreProjections, type CoreEvents } from './events/core.ts';
import { evolveProjections, type EvolveEvents } from './events/evolve.ts';
import { llmProjections, type LlmEvents } from './events/llm.ts';
import { pipelineProjections, type PipelineEvents } from './events/pipeline.ts';
import type { Projections } from './events/projection.ts';
import { researchProjections, type ResearchEvents } from './events/research.ts';

export type { TrialAssessment, HoldoutResult, HoldoutStatus } from './events/research.ts';
export type { StageBest, StageSpend } from './events/pipeline.ts';

/** The typed event map: event type → payload. */
export interface LedgerEvents extends CoreEvents, ResearchEvents, EvolveEvents, LlmEvents, PipelineEvents {}

export type LedgerEventType = keyof LedgerEvents;

/** One stored event. */
export interface StoredEvent<T extends LedgerEventType = LedgerEventType> {
  id: number;
  studyId: number | null;
  trialId: number | null;
  type: T;
  payload: LedgerEvents[T];
  createdAt: string;
}

/** How each event changes the state tables. */
export const projections: Projections<LedgerEvents> = {
  ...coreProjections,
  ...researchProjections,
  ...evolveProjections,
  ...llmProjections,
  ...pipelineProjections,
};

/** Whether `type` is an event this Strata knows (a ledger written by a newer one may hold others). */
export function isLedgerEventType(type: string): type is LedgerEventType {
  return Object.hasOwn(projections, type);
}
