import type { StoredEvent } from '../ledger/events.ts';
import type { StudyRecord, TrialRecord } from '../ledger/records.ts';

/** How busy a study kept its slots: the document's `scheduling` section. */
export interface SchedulingSummary {
  /** The executor and slot count of the latest session. */
  executor: string | null;
  slots: number | null;
  /** Slot-seconds spent running trial processes (or SLURM jobs). */
  busy_slot_s: number;
  /** Slot-seconds the orchestrator held: each session's wall time × its slots. */
  capacity_slot_s: number;
  /** busy / capacity; null before any session has run. */
  duty_cycle: number | null;
}

/**
 * The accelerator duty cycle of a study: the fraction of slot-seconds spent
 * running trials. Capacity is counted per orchestrator session, from its
 * `study.session_started` event to the state change that ended it (or, after
 * a kill, its last event; `now` while it runs), times that session's slots.
 * Busy time is each trial's process wall time (start to exit), so proposing,
 * git and judging count as idle.
 *
 * @example
 * const { duty_cycle } = schedulingSummary(ledger.events(id), ledger.trials(id), ledger.study(id));
 */
export function schedulingSummary(events: readonly StoredEvent[], trials: readonly TrialRecord[], study: StudyRecord, now = Date.now()): SchedulingSummary {
  let busyMs = 0;
  for (const trial of trials) {
    if (trial.startedAt === null) continue;
    const started = Date.parse(trial.startedAt);
    const ended = trial.endedAt === null ? now : Date.parse(trial.endedAt);
    busyMs += trial.wallMs ?? Math.max(0, ended - started);
  }
  return schedulingSummaryOf(events, busyMs, study, now);
}

/**
 * The same summary from the busy time already summed (a long study sums it in
 * SQL) and only the events that matter (`EventStore.sessionMarks`).
 */
export function schedulingSummaryOf(events: readonly { type: string; payload: unknown; createdAt: string }[], busyMs: number, study: Pick<StudyRecord, 'state'>, now = Date.now()): SchedulingSummary {
  let capacityMs = 0;
  let open: { start: number; slots: number; last: number } | undefined;
  let latest: { executor: string; slots: number } | undefined;
  for (const event of events) {
    const at = Date.parse(event.createdAt);
    if (event.type === 'study.session_started') {
      if (open) capacityMs += (open.last - open.start) * open.slots;
      const payload = event.payload as { slots: number; executor: string };
      open = { start: at, slots: payload.slots, last: at };
      latest = { executor: payload.executor, slots: payload.slots };
      continue;
    }
    if (!open) continue;
    open.last = at;
    if (event.type === 'study.state_changed' && (event.payload as { state: string }).state !== 'running') {
      capacityMs += (at - open.start) * open.slots;
      open = undefined;
    }
  }
  if (open) capacityMs += ((study.state === 'running' ? now : open.last) - open.start) * open.slots;
  return {
    executor: latest?.executor ?? null,
    slots: latest?.slots ?? null,
    busy_slot_s: busyMs / 1000,
    capacity_slot_s: capacityMs / 1000,
    duty_cycle: capacityMs > 0 ? Math.min(1, busyMs / capacityMs) : null,
  };
}
