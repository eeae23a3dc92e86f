import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planSchedule, type PlanSnapshot } from '../../src/research/schedule/plan.ts';

const base: PlanSnapshot = {
  freeSlots: ['slot-0'],
  runnable: [],
  ready: [],
  promotion: null,
  inFlight: 0,
  proposing: 0,
  background: 0,
  freeProposalWorkers: 1,
  concurrentProposals: 1,
  lookahead: 0,
  baseline: 'missing',
  counted: 0,
  committed: 0,
  serial: true,
};

const snapshotArbitrary: fc.Arbitrary<PlanSnapshot> = fc
  .record({
    slotCount: fc.integer({ min: 1, max: 4 }),
    free: fc.integer({ min: 0, max: 4 }),
    runnable: fc.array(fc.record({ id: fc.integer({ min: 1, max: 50 }), baseline: fc.boolean(), source: fc.constantFrom('judge' as const, 'queued' as const) }), { maxLength: 5 }),
    ready: fc.array(fc.record({ id: fc.integer({ min: 51, max: 100 }), baseline: fc.boolean() }), { maxLength: 4 }),
    promotion: fc.option(fc.integer({ min: 101, max: 120 }), { nil: null }),
    inFlight: fc.integer({ min: 0, max: 4 }),
    proposing: fc.integer({ min: 0, max: 3 }),
    background: fc.integer({ min: 0, max: 2 }),
    freeProposalWorkers: fc.integer({ min: 0, max: 3 }),
    concurrentProposals: fc.integer({ min: 1, max: 3 }),
    lookahead: fc.integer({ min: 0, max: 2 }),
    baseline: fc.constantFrom('settled' as const, 'running' as const, 'pending' as const, 'missing' as const),
    maxTrials: fc.option(fc.integer({ min: 1, max: 20 }), { nil: undefined }),
    counted: fc.integer({ min: 0, max: 25 }),
    extraCommitted: fc.integer({ min: 0, max: 5 }),
    stop: fc.option(fc.record({ state: fc.constantFrom('paused' as const, 'done' as const, 'failed' as const), reason: fc.string(), cause: fc.constantFrom('complete' as const, 'user' as const, 'error' as const) }), { nil: undefined }),
    deciding: fc.integer({ min: 0, max: 2 }),
  })
  .map((draw) => {
    const free = Math.min(draw.free, draw.slotCount);
    return {
      freeSlots: Array.from({ length: free }, (_, index) => `slot-${index}`),
      runnable: uniqueBy(draw.runnable),
      ready: uniqueBy(draw.ready),
      promotion: draw.promotion,
      inFlight: draw.inFlight,
      proposing: draw.proposing,
      background: draw.background,
      freeProposalWorkers: draw.freeProposalWorkers,
      concurrentProposals: draw.concurrentProposals,
      lookahead: draw.lookahead,
      baseline: draw.baseline,
      ...(draw.maxTrials !== undefined ? { maxTrials: draw.maxTrials } : {}),
      counted: draw.counted,
      committed: draw.counted + draw.extraCommitted,
      ...(draw.stop ? { stop: draw.stop, deciding: Math.min(draw.deciding, draw.inFlight) } : {}),
      serial: draw.slotCount === 1 && draw.lookahead === 0,
    };
  });

function uniqueBy<T extends { id: number }>(items: T[]): T[] {
  const seen = new Set<number>();
  return items.filter((item) => !seen.has(item.id) && seen.add(item.id));
}

describe('the schedule planner', () => {
  it('starts the serial loop by proposing (the baseline), and runs the baseline as soon as it is ready', () => {
    expect(planSchedule(base)).toEqual({ starts: [], judges: [], proposals: 1, prefetch: false, next: { kind: 'wait' } });
    const ready = planSchedule({ ...base, baseline: 'pending', ready: [{ id: 1, baseline: true }] });
    expect(ready.starts).toEqual([{ slot: 'slot-0', kind: 'ready', id: 1 }]);
  });

  it('resumes a measured decision before anything else, even past max_trials', () => {
    const plan = planSchedule({
      ...base,
      baseline: 'settled',
      runnable: [
        { id: 3, baseline: false, source: 'queued' },
        { id: 2, baseline: false, source: 'judge' },
      ],
      maxTrials: 4,
      counted: 4,
      committed: 4,
    });
    expect(plan.starts).toEqual([{ slot: 'slot-0', kind: 'trial', id: 2 }]);
  });

  it('never lets a candidate take the last free device while the baseline waits for one (the study killed during its baseline repeats)', () => {
    // After a kill: a re-queued candidate and a baseline whose decision resumes.
    const plan = planSchedule({
      ...base,
      baseline: 'pending',
      runnable: [
        { id: 5, baseline: false, source: 'queued' },
        { id: 1, baseline: true, source: 'judge' },
      ],
    });
    expect(plan.starts).toEqual([{ slot: 'slot-0', kind: 'trial', id: 1 }]);
    // A candidate alone with no baseline coming: nothing starts, the proposal makes the baseline.
    const missing = planSchedule({ ...base, baseline: 'missing', runnable: [{ id: 5, baseline: false, source: 'queued' }] });
    expect(missing.starts).toEqual([]);
    expect(missing.proposals).toBe(1);
  });

  it('outside the serial loop, resumes every measured decision without a slot: a decision holds no device while it waits', () => {
    const plan = planSchedule({
      ...base,
      serial: false,
      freeSlots: ['slot-0'],
      baseline: 'pending',
      runnable: [
        { id: 1, baseline: true, source: 'judge' },
        { id: 2, baseline: false, source: 'judge' },
        { id: 3, baseline: false, source: 'judge' },
        { id: 9, baseline: false, source: 'queued' },
      ],
    });
    expect(plan.judges).toEqual([1, 2, 3]);
    expect(plan.starts).toEqual([{ slot: 'slot-0', kind: 'trial', id: 9 }]);
  });

  it('runs candidates beside a baseline that runs, on other devices', () => {
    const plan = planSchedule({ ...base, serial: false, freeSlots: ['slot-1', 'slot-2'], baseline: 'running', inFlight: 1, ready: [{ id: 7, baseline: false }, { id: 8, baseline: false }] });
    expect(plan.starts.map((start) => start.id)).toEqual([7, 8]);
  });

  it('ends a session that has nothing in flight and nothing to start, saying why', () => {
    const capped = planSchedule({ ...base, baseline: 'settled', maxTrials: 3, counted: 3, committed: 3 });
    expect(capped.next).toEqual({ kind: 'stop', stop: { state: 'done', cause: 'complete', reason: 'max_trials reached (3)' } });
    const stuck = planSchedule({ ...base, freeProposalWorkers: 0 });
    expect(stuck.next.kind).toBe('stop');
    expect(stuck.next.kind === 'stop' && stuck.next.stop.reason).toMatch(/no baseline result and no proposal worker/);
  });

  it('property: never waits with nothing in flight', () => {
    fc.assert(
      fc.property(snapshotArbitrary, (snapshot) => {
        const plan = planSchedule(snapshot);
        const inFlightAfter = snapshot.inFlight + snapshot.proposing + snapshot.background + plan.starts.length + plan.judges.length + plan.proposals;
        if (plan.next.kind === 'wait') expect(inFlightAfter).toBeGreaterThan(0);
      }),
      { numRuns: 3000 },
    );
  });

  it('a study that completes finishes a decision an earlier session measured, then stops; any other stop leaves it for the next session', () => {
    const complete = { state: 'done' as const, cause: 'complete' as const, reason: 'max_time reached (60s)' };
    const measured: PlanSnapshot = { ...base, baseline: 'settled', counted: 3, committed: 4, runnable: [{ id: 7, baseline: false, source: 'judge' }], stop: complete };
    expect(planSchedule(measured)).toEqual({ starts: [{ slot: 'slot-0', kind: 'trial', id: 7 }], judges: [], proposals: 0, prefetch: false, next: { kind: 'wait' } });
    expect(planSchedule({ ...measured, serial: false, freeSlots: [] }).judges).toEqual([7]);
    expect(planSchedule({ ...measured, runnable: [], freeSlots: [], inFlight: 1, deciding: 1 }).next).toEqual({ kind: 'wait' });
    expect(planSchedule({ ...measured, runnable: [], freeSlots: [], inFlight: 1, deciding: 0 }).next).toEqual({ kind: 'stop', stop: complete });
    const user = { state: 'paused' as const, cause: 'user' as const, reason: 'stopped by the user' };
    expect(planSchedule({ ...measured, stop: user }).next).toEqual({ kind: 'stop', stop: user });
  });

  it('property: starts at most one trial per free slot, each trial once, and nothing after a stop', () => {
    fc.assert(
      fc.property(snapshotArbitrary, (snapshot) => {
        const plan = planSchedule(snapshot);
        expect(new Set(plan.starts.map((start) => start.slot)).size).toBe(plan.starts.length);
        expect(plan.starts.every((start) => snapshot.freeSlots.includes(start.slot))).toBe(true);
        expect(new Set(plan.starts.map((start) => `${start.kind}:${start.id}`)).size).toBe(plan.starts.length);
        if (snapshot.stop && snapshot.stop.cause !== 'complete') expect(plan).toEqual({ starts: [], judges: [], proposals: 0, prefetch: false, next: { kind: 'stop', stop: snapshot.stop } });
        if (snapshot.stop) {
          // A completing study only finishes measured decisions: nothing new is proposed or started.
          expect(plan.proposals).toBe(0);
          expect(plan.revisions ?? []).toEqual([]);
          expect(plan.prefetch).toBe(false);
          const judging = [...plan.judges, ...plan.starts.map((start) => start.id)];
          expect(plan.starts.every((start) => start.kind === 'trial')).toBe(true);
          expect(judging.every((id) => snapshot.runnable.some((trial) => trial.id === id && trial.source === 'judge'))).toBe(true);
          // It ends once no decision is left to finish.
          const left = snapshot.runnable.some((trial) => trial.source === 'judge' && (trial.baseline || snapshot.baseline === 'settled' || snapshot.baseline === 'running')) || (snapshot.deciding ?? 0) > 0;
          if (!left) expect(plan.next).toEqual({ kind: 'stop', stop: snapshot.stop });
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('property: before the baseline has a result, a candidate never takes the last free device', () => {
    fc.assert(
      fc.property(snapshotArbitrary, (snapshot) => {
        const plan = planSchedule(snapshot);
        const isBaseline = (start: (typeof plan.starts)[number]) =>
          start.kind === 'trial' ? snapshot.runnable.find((trial) => trial.id === start.id)!.baseline : start.kind === 'ready' ? snapshot.ready.find((trial) => trial.id === start.id)!.baseline : false;
        const candidates = plan.starts.filter((start) => !isBaseline(start));
        const baselineStarts = plan.starts.some(isBaseline) || plan.judges.some((id) => snapshot.runnable.find((trial) => trial.id === id)!.baseline);
        if (snapshot.baseline === 'missing' && !baselineStarts) expect(candidates).toEqual([]);
        if (snapshot.baseline === 'pending' && !baselineStarts) expect(candidates.length).toBeLessThan(Math.max(1, snapshot.freeSlots.length));
      }),
      { numRuns: 3000 },
    );
  });

  it('property: respects max_trials and the proposal bounds', () => {
    fc.assert(
      fc.property(snapshotArbitrary, (snapshot) => {
        const plan = planSchedule(snapshot);
        // Resumed decisions finish work already begun; anything fresh must fit under max_trials with all that is in flight.
        const fresh = plan.starts.filter((start) => !(start.kind === 'trial' && snapshot.runnable.find((trial) => trial.id === start.id)?.source === 'judge')).length;
        if (snapshot.maxTrials !== undefined && fresh > 0) expect(snapshot.counted + snapshot.inFlight + plan.judges.length + plan.starts.length).toBeLessThanOrEqual(snapshot.maxTrials);
        expect(plan.proposals).toBeLessThanOrEqual(snapshot.freeProposalWorkers);
        expect(snapshot.proposing + plan.proposals).toBeLessThanOrEqual(Math.max(snapshot.concurrentProposals, snapshot.proposing));
        if (snapshot.maxTrials !== undefined) expect(plan.proposals).toBeLessThanOrEqual(Math.max(0, snapshot.maxTrials - snapshot.committed));
      }),
      { numRuns: 3000 },
    );
  });
});

/** Snapshots with speculation on or off and some ready proposals stale (a keep moved the best under them). */
const speculativeArbitrary: fc.Arbitrary<PlanSnapshot> = fc
  .tuple(snapshotArbitrary, fc.boolean(), fc.array(fc.constantFrom('holds' as const, 'stale' as const, 'waiting' as const), { minLength: 4, maxLength: 4 }))
  .map(([snapshot, speculate, assumptions]) => ({
    ...snapshot,
    ready: snapshot.ready.map((trial, index) => {
      const assumption = speculate && !trial.baseline ? assumptions[index] : 'holds';
      return assumption === 'stale' ? { ...trial, stale: true } : assumption === 'waiting' ? { ...trial, waiting: true } : trial;
    }),
    ...(speculate ? { speculate } : {}),
    // Speculation proposes in a worktree of its own: never the serial loop.
    serial: snapshot.serial && !speculate,
  }));

describe('the schedule planner with speculation', () => {
  const running: PlanSnapshot = { ...base, serial: false, speculate: true, freeSlots: [], inFlight: 1, baseline: 'settled', counted: 2, committed: 3 };

  it('proposes while the only slot runs (as if its trial will be discarded); without speculation one slot waits for the result', () => {
    expect(planSchedule(running).proposals).toBe(1);
    expect(planSchedule({ ...running, speculate: false, serial: true }).proposals).toBe(0);
    // One ahead is enough: a ready proposal waits for the slot.
    expect(planSchedule({ ...running, ready: [{ id: 7, baseline: false }] }).proposals).toBe(0);
  });

  it('starts a ready speculative proposal the moment the slot frees, if the trial was discarded', () => {
    const plan = planSchedule({ ...running, freeSlots: ['slot-0'], inFlight: 0, ready: [{ id: 7, baseline: false }] });
    expect(plan.starts).toEqual([{ slot: 'slot-0', kind: 'ready', id: 7 }]);
    expect(plan.proposals).toBe(1);
  });

  it('after a keep, revises the stale proposal instead of starting it, and proposes nothing new until a worker is free', () => {
    const plan = planSchedule({ ...running, freeSlots: ['slot-0'], inFlight: 0, ready: [{ id: 7, baseline: false, stale: true }] });
    expect(plan.starts).toEqual([]);
    expect(plan.revisions).toEqual([7]);
    expect(plan.proposals).toBe(0);
    expect(plan.next).toEqual({ kind: 'wait' });
    // No worker free: the stale proposal waits for one, and is still never started.
    const busy = planSchedule({ ...running, freeSlots: ['slot-0'], inFlight: 0, proposing: 1, freeProposalWorkers: 0, ready: [{ id: 7, baseline: false, stale: true }] });
    expect(busy.starts).toEqual([]);
    expect(busy.revisions).toBeUndefined();
  });

  it('waits for the decision of the trial a proposal was made beside before starting it, checking it out meanwhile', () => {
    const measured = planSchedule({ ...running, freeSlots: ['slot-0'], ready: [{ id: 7, baseline: false, waiting: true }] });
    expect(measured.starts).toEqual([]);
    expect(measured.proposals).toBe(0);
    expect(measured.next).toEqual({ kind: 'wait' });
    expect(planSchedule({ ...running, ready: [{ id: 7, baseline: false, waiting: true }] }).prefetch).toBe(true);
  });

  it('property: never starts a stale proposal or one waiting for a decision, and never waits with nothing in flight', () => {
    fc.assert(
      fc.property(speculativeArbitrary, (snapshot) => {
        const plan = planSchedule(snapshot);
        const stale = new Set(snapshot.ready.filter((trial) => trial.stale || trial.waiting).map((trial) => trial.id));
        expect(plan.starts.filter((start) => start.kind === 'ready' && stale.has(start.id))).toEqual([]);
        const inFlightAfter =
          snapshot.inFlight + snapshot.proposing + snapshot.background + plan.starts.length + plan.judges.length + plan.proposals + (plan.revisions?.length ?? 0);
        if (plan.next.kind === 'wait') expect(inFlightAfter).toBeGreaterThan(0);
      }),
      { numRuns: 3000 },
    );
  });

  it('property: revisions are stale ready proposals, each once, before any new proposal, within the proposal bounds', () => {
    fc.assert(
      fc.property(speculativeArbitrary, (snapshot) => {
        const plan = planSchedule(snapshot);
        const revisions = plan.revisions ?? [];
        const stale = snapshot.ready.filter((trial) => trial.stale).map((trial) => trial.id);
        expect(revisions.every((id) => stale.includes(id))).toBe(true);
        expect(new Set(revisions).size).toBe(revisions.length);
        if (!snapshot.speculate) expect(revisions).toEqual([]);
        if (snapshot.stop) expect(revisions).toEqual([]);
        // A new proposal never jumps ahead of a stale one that could have been revised.
        if (plan.proposals > 0) expect(revisions.length).toBe(stale.length);
        expect(revisions.length + plan.proposals).toBeLessThanOrEqual(snapshot.freeProposalWorkers);
        expect(snapshot.proposing + revisions.length + plan.proposals).toBeLessThanOrEqual(Math.max(snapshot.concurrentProposals, snapshot.proposing));
      }),
      { numRuns: 3000 },
    );
  });

  it('with speculation, a proposal made ahead that failed holds the next one back until a result comes; a free slot still gets one', () => {
    const busy: PlanSnapshot = { ...base, serial: false, speculate: true, baseline: 'settled', freeSlots: [], inFlight: 1, counted: 2, committed: 3 };
    expect(planSchedule(busy).proposals).toBe(1);
    expect(planSchedule({ ...busy, aheadHeld: true }).proposals).toBe(0);
    // A free slot while the trial is still being decided waits too; with nothing in flight the proposer is asked again.
    expect(planSchedule({ ...busy, aheadHeld: true, freeSlots: ['slot-0'] }).proposals).toBe(0);
    expect(planSchedule({ ...busy, aheadHeld: true, freeSlots: ['slot-0'], inFlight: 0 }).proposals).toBe(1);
  });

  it('property: with speculation, a busy slot always has a proposal ahead when workers and max_trials allow', () => {
    fc.assert(
      fc.property(
        speculativeArbitrary.map((snapshot) => {
          const { stop: _stop, maxTrials: _maxTrials, ...rest } = snapshot;
          return { ...rest, speculate: true, serial: false, freeSlots: [], ready: [], proposing: 0, freeProposalWorkers: Math.max(1, snapshot.freeProposalWorkers) };
        }),
        (snapshot) => {
          expect(planSchedule(snapshot).proposals).toBeGreaterThanOrEqual(1);
        },
      ),
      { numRuns: 3000 },
    );
  });
});
