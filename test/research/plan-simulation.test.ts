/**
 * The planner driven through whole studies: a small model of the world
 * (trials that are proposed, run, measured and decided; slots; a
 * baseline that must be kept before any candidate is judged) advanced by
 * random events, among them kills of the orchestrator, after which the
 * model applies recovery's rules (a measured trial resumes its decision, a
 * live one is interrupted and tried again once). For every random
 * sequence: the planner never waits with nothing in flight, no device runs
 * two trials, no candidate is decided before the baseline is kept, and the
 * study reaches max_trials.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planSchedule, type PlanSnapshot } from '../../src/research/schedule/plan.ts';

type Phase = 'queued' | 'proposing' | 'ready' | 'running' | 'waiting' | 'measured' | 'judging' | 'decided' | 'interrupted';
interface ModelTrial {
  id: number;
  baseline: boolean;
  phase: Phase;
  slot: string | null;
  /** Was it measured (its run ended) in an earlier session? */
  retryOf: number | null;
}

interface World {
  trials: ModelTrial[];
  slots: string[];
  serial: boolean;
  maxTrials: number;
  nextId: number;
  baselineKept: boolean;
}

function snapshot(world: World): PlanSnapshot {
  const live = (phase: Phase) => world.trials.filter((trial) => trial.phase === phase);
  const held = new Set(world.trials.filter((trial) => trial.slot !== null).map((trial) => trial.slot));
  const baselines = world.trials.filter((trial) => trial.baseline);
  const inSession = (trial: ModelTrial) => ['running', 'waiting', 'judging'].includes(trial.phase);
  const counted = world.trials.filter((trial) => trial.phase === 'decided').length;
  return {
    freeSlots: world.slots.filter((slot) => !held.has(slot) && !(world.serial && live('proposing').length > 0)),
    runnable: world.trials.filter((trial) => trial.phase === 'queued' || trial.phase === 'measured').map((trial) => ({ id: trial.id, baseline: trial.baseline, source: trial.phase === 'measured' ? ('judge' as const) : ('queued' as const) })),
    ready: live('ready').map((trial) => ({ id: trial.id, baseline: trial.baseline })),
    promotion: null,
    inFlight: world.trials.filter(inSession).length,
    proposing: live('proposing').length,
    background: 0,
    freeProposalWorkers: live('proposing').length === 0 ? 1 : 0,
    concurrentProposals: 1,
    lookahead: world.serial ? 0 : 1,
    baseline: world.baselineKept ? 'settled' : baselines.some(inSession) ? 'running' : baselines.some((trial) => ['queued', 'proposing', 'ready', 'measured'].includes(trial.phase)) ? 'pending' : 'missing',
    maxTrials: world.maxTrials,
    counted,
    committed: world.trials.filter((trial) => !['interrupted'].includes(trial.phase)).length,
    serial: world.serial,
  };
}

/** Apply a plan; returns false when the session ended. */
function apply(world: World): 'stop' | 'wait' {
  const plan = planSchedule(snapshot(world));
  const free = new Set(snapshot(world).freeSlots);
  for (const start of plan.starts) {
    expect(free.delete(start.slot), `slot ${start.slot} started twice or was not free`).toBe(true);
    const trial = world.trials.find((candidate) => candidate.id === start.id)!;
    expect(['queued', 'ready', 'measured']).toContain(trial.phase);
    trial.slot = start.slot;
    // A resumed candidate decision waits for the baseline's keep, as executeTrial's beforeJudge does.
    trial.phase = trial.phase === 'measured' ? (trial.baseline || world.baselineKept ? 'judging' : 'waiting') : 'running';
  }
  for (const id of plan.judges) {
    const trial = world.trials.find((candidate) => candidate.id === id)!;
    expect(trial.phase).toBe('measured');
    trial.phase = trial.baseline || world.baselineKept ? 'judging' : 'waiting';
  }
  for (let index = 0; index < plan.proposals; index++) {
    const hasBaseline = world.trials.some((trial) => trial.baseline && trial.phase !== 'interrupted');
    world.trials.push({ id: world.nextId++, baseline: !hasBaseline, phase: 'proposing', slot: null, retryOf: null });
  }
  return plan.next.kind;
}

/** One thing happens in the world. */
function step(world: World, pick: number, kill: boolean): void {
  if (kill) {
    // The orchestrator dies; recovery: measured trials keep their measurement, live ones are tried again once.
    for (const trial of [...world.trials]) {
      trial.slot = null;
      if (trial.phase === 'waiting' || trial.phase === 'judging') trial.phase = 'measured';
      else if (trial.phase === 'running' || trial.phase === 'ready' || trial.phase === 'queued' || trial.phase === 'proposing') {
        const hadCandidate = trial.phase !== 'proposing';
        trial.phase = 'interrupted';
        if (hadCandidate || trial.baseline) world.trials.push({ id: world.nextId++, baseline: trial.baseline, phase: 'queued', slot: null, retryOf: trial.id });
      }
    }
    return;
  }
  const movable = world.trials.filter((trial) => ['proposing', 'running', 'waiting', 'judging'].includes(trial.phase) && !(trial.phase === 'waiting' && !world.baselineKept));
  if (movable.length === 0) return;
  const trial = movable[pick % movable.length]!;
  if (trial.phase === 'proposing') trial.phase = 'ready';
  else if (trial.phase === 'running') trial.phase = trial.baseline || world.baselineKept ? 'judging' : 'waiting';
  else if (trial.phase === 'waiting') trial.phase = 'judging';
  else {
    // A decision: the baseline is kept; a candidate is decided only against a kept baseline.
    if (!trial.baseline) expect(world.baselineKept, `candidate #${trial.id} decided before the baseline was kept`).toBe(true);
    trial.phase = 'decided';
    trial.slot = null;
    if (trial.baseline) world.baselineKept = true;
  }
  // Outside the serial loop the device is free once the run ends; judging goes on without it.
  if (!world.serial && (trial.phase === 'waiting' || trial.phase === 'judging')) trial.slot = null;
}

describe('the planner through whole studies with kills', () => {
  it('property: every random sequence of events and kills reaches max_trials without a stuck state', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.boolean(),
        fc.integer({ min: 2, max: 8 }),
        fc.array(fc.tuple(fc.nat(), fc.double({ min: 0, max: 1, noNaN: true })), { minLength: 400, maxLength: 400 }),
        (slotCount, lookahead, maxTrials, events) => {
          const world: World = { trials: [], slots: Array.from({ length: slotCount }, (_, i) => `slot-${i}`), serial: slotCount === 1 && !lookahead, maxTrials, nextId: 1, baselineKept: false };
          let kills = 0;
          for (const [pick, chance] of events) {
            const next = apply(world);
            if (next === 'stop') break;
            const inFlight = world.trials.filter((trial) => ['proposing', 'running', 'waiting', 'judging'].includes(trial.phase)).length;
            expect(inFlight, 'the plan waits with nothing in flight').toBeGreaterThan(0);
            const kill = chance < 0.08 && kills < 6;
            if (kill) kills++;
            step(world, pick, kill);
          }
          expect(world.trials.filter((trial) => trial.phase === 'decided').length).toBe(maxTrials);
          // Each interrupted trial has at most one new attempt.
          const retries = world.trials.map((trial) => trial.retryOf).filter((id) => id !== null);
          expect(new Set(retries).size).toBe(retries.length);
        },
      ),
      { numRuns: 300, endOnFailure: true },
    );
  });
});
