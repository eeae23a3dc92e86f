import { describe, expect, it } from 'vitest';
import { DevicePool } from '../../src/research/device-pool.ts';
import { makeSlots } from '../../src/research/slot-executor.ts';
import { schedulingSummary } from '../../src/research/duty-cycle.ts';
import type { StoredEvent } from '../../src/ledger/events.ts';
import type { StudyRecord, TrialRecord } from '../../src/ledger/records.ts';

describe('the device pool', () => {
  it('hands a released device to a waiting run before the scheduler sees it free', async () => {
    let freed = 0;
    const slots = makeSlots('/w', 2, ['0', '1']);
    const pool = new DevicePool(slots, () => freed++);
    const first = pool.take(slots[0]!);
    const second = pool.take(slots[1]!);
    const waiting = pool.acquire(new AbortController().signal);
    pool.release(first);
    pool.release(first); // twice is harmless
    expect((await waiting)!.slot.env.CUDA_VISIBLE_DEVICES).toBe('0');
    expect(freed).toBe(0);
    expect(pool.free()).toEqual([]);
    pool.release(second);
    expect(freed).toBe(1);
    expect(pool.free().map((slot) => slot.name)).toEqual(['slot-1']);
  });

  it('gives up waiting when the study stops', async () => {
    const slots = makeSlots('/w', 1);
    const pool = new DevicePool(slots, () => {});
    pool.take(slots[0]!);
    const controller = new AbortController();
    const waiting = pool.acquire(controller.signal);
    controller.abort();
    expect(await waiting).toBeUndefined();
  });
});

describe('the duty cycle', () => {
  const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
  const event = (id: number, type: string, s: number, payload: unknown): StoredEvent => ({ id, studyId: 1, trialId: null, type: type as StoredEvent['type'], payload: payload as never, createdAt: at(s) });
  const trial = (startS: number, wallS: number | null, endS: number | null) => ({ startedAt: at(startS), wallMs: wallS === null ? null : wallS * 1000, endedAt: endS === null ? null : at(endS) }) as TrialRecord;

  it('is slot-seconds running trials over slot-seconds held, session by session (a killed session ends at its last event)', () => {
    const events = [
      event(1, 'study.created', 0, {}),
      event(2, 'study.session_started', 0, { slots: 2, executor: 'local', lookahead: 1 }),
      event(3, 'trial.finished', 10, {}),
      event(4, 'study.state_changed', 10, { state: 'paused' }),
      event(5, 'study.session_started', 100, { slots: 1, executor: 'local', lookahead: 0 }),
      event(6, 'trial.finished', 104, {}),
      // killed here: the next session starts without a state change
      event(7, 'study.session_started', 200, { slots: 4, executor: 'slurm', lookahead: 1 }),
      event(8, 'study.state_changed', 205, { state: 'done' }),
    ];
    const trials = [trial(0, 9, 9), trial(1, 9, 10), trial(100, 4, 104), trial(200, 5, 205), trial(200, null, 204)];
    const summary = schedulingSummary(events, trials, { state: 'done' } as StudyRecord);
    // capacity: 10 s × 2 + 4 s × 1 + 5 s × 4 = 44; busy: 9 + 9 + 4 + 5 + 4 = 31
    expect(summary).toEqual({ executor: 'slurm', slots: 4, busy_slot_s: 31, capacity_slot_s: 44, duty_cycle: 31 / 44 });
  });
});
