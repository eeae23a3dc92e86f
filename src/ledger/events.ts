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
import { coreBounds, coreProjections, type CoreEvents } from './events/core.ts';
import { evolveBounds, evolveProjections, type EvolveEvents } from './events/evolve.ts';
import { llmBounds, llmProjections, type LlmEvents } from './events/llm.ts';
import { oversightBounds, oversightProjections, type OversightEvents } from './events/oversight.ts';
import { pipelineBounds, pipelineProjections, type PipelineEvents } from './events/pipeline.ts';
import type { PayloadBounds, Projections } from './events/projection.ts';
import { researchBounds, researchProjections, type ResearchEvents } from './events/research.ts';
import { verifyBounds, verifyProjections, type VerifyEvents } from './events/verify.ts';

export type { TrialAssessment, HoldoutResult, HoldoutStatus } from './events/research.ts';
export type { StageBest, StageSpend } from './events/pipeline.ts';
export type { VerifyArm, VerifyConflict } from './events/verify.ts';
export type { ControlAction, OversightSource, VetoFollower } from './events/oversight.ts';

/** The typed event map: event type → payload. */
export interface LedgerEvents extends CoreEvents, ResearchEvents, EvolveEvents, LlmEvents, PipelineEvents, OversightEvents, VerifyEvents {}

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
  ...oversightProjections,
  ...verifyProjections,
};

/** How each event's texts are bounded before it is written. */
export const payloadBounds: PayloadBounds<LedgerEvents> = {
  ...coreBounds,
  ...researchBounds,
  ...evolveBounds,
  ...llmBounds,
  ...pipelineBounds,
  ...oversightBounds,
  ...verifyBounds,
};

/** The payload as the ledger stores it: every text within its bound (TEXT_LIMITS). */
export function boundedPayload<T extends LedgerEventType>(type: T, payload: LedgerEvents[T]): LedgerEvents[T] {
  const bound = payloadBounds[type] as ((payload: LedgerEvents[T]) => LedgerEvents[T]) | undefined;
  return bound ? bound(payload) : payload;
}

/** Whether `type` is an event this Strata knows (a ledger written by a newer one may hold others). */
export function isLedgerEventType(type: string): type is LedgerEventType {
  return Object.hasOwn(projections, type);
}
