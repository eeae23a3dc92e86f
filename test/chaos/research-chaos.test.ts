/**
 * The chaos suite for research studies: a real `strata research` on a real
 * repository, SIGKILLed — alone or with its whole process group — at every
 * named phase and at random moments, then resumed until it is done. After
 * each sequence the invariants of chaos-harness.ts must hold and `strata
 * ledger check` must pass. Seeds are printed: CHAOS_SEED=<n> replays one.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gitIn, makeRepo } from '../helpers/study-repo.ts';
import { checkInvariants, finishedResults, ledgerCheck, readStudy, seededRandom, strata, type KillPlan } from './chaos-harness.ts';

/**
 * loss = 1 + 0.05·(x−1)²/36 + noise(seed) with |noise| ≤ 0.01: improvements of the order of the noise, so the
 * noise-aware rule asks for confirmations and keeps some; the baseline (x = 4.5) leaves room to improve.
 */
const TRAINER = `import { existsSync, readFileSync } from 'node:fs';
const p = existsSync('strata.params.json') ? JSON.parse(readFileSync('strata.params.json', 'utf8')) : { x: 4.5 };
const seed = Number(process.env.STRATA_SEED ?? 0);
const noise = ((Math.imul(seed ^ 0x9e3779b9, 2654435761) >>> 0) % 2001) / 100000 - 0.01;
await new Promise((resolve) => setTimeout(resolve, 120));
console.log('METRIC loss=' + (1 + 0.05 * (p.x - 1) ** 2 / 36 + noise));
`;
const HOLDOUT = `console.log('METRIC loss=1');\n`;

interface Scenario {
  name: string;
  maxTrials: number;
  extra?: string;
}

function makeStudy(scenario: Scenario): string {
  const yaml = `name: ${scenario.name}
research:
  editable: [train.mjs]
  run: ${JSON.stringify(`${process.execPath} train.mjs`)}
  budget: 5s
  metric: {name: loss, goal: minimize}
  proposer: search
  params:
    x: {type: float, low: -5, high: 5}
  search: {sampler: tpe, seed: 11, startup_trials: 3}
  acceptance: {rule: noise-aware, baseline_repeats: 3, confirm_repeats: 2, recheck_every: 2}
  holdout: ${JSON.stringify(`${process.execPath} holdout.mjs`)}
  max_trials: ${scenario.maxTrials}
${scenario.extra ?? ''}`;
  return makeRepo({ 'train.mjs': TRAINER, 'holdout.mjs': HOLDOUT, 'strata.yaml': yaml }, { prefix: 'strata-chaos-' });
}

/** Kill as `plans` say, one run each, then resume until done; check the invariants. Returns whether each kill landed. */
async function sequence(scenario: Scenario, plans: readonly KillPlan[], label: string): Promise<{ landed: boolean[] }> {
  const repo = makeStudy(scenario);
  const snapshots: Map<number, string>[] = [];
  const landed: boolean[] = [];
  for (const plan of plans) {
    const run = await strata(repo, ['research'], { kill: plan });
    landed.push(run.signal === 'SIGKILL');
    expect(run.stderr, `${label}: a killed run printed a stack trace`).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/);
    if (run.signal !== 'SIGKILL') expect(run.code, `${label}: ${run.stderr}`).toBe(0);
    snapshots.push(finishedResults(readStudy(repo, scenario.name).trials));
  }
  for (let attempt = 0; readStudy(repo, scenario.name).state !== 'done'; attempt++) {
    const run = await strata(repo, ['research']);
    expect(run.code, `${label}: resume ${attempt} exited ${run.code}: ${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stderr).not.toMatch(/unsettled top-level await/);
    if (attempt > 3) throw new Error(`${label}: not done after ${attempt} resumes: ${readStudy(repo, scenario.name).stopReason}`);
  }
  const problems = [...checkInvariants(repo, scenario.name, { maxTrials: scenario.maxTrials, earlier: snapshots }), ...(await ledgerCheck(repo))];
  expect(problems, `${label} (${repo})`).toEqual([]);
  return { landed };
}

const serial: Scenario = { name: 'serial', maxTrials: 6 };
const twoSlots: Scenario = { name: 'slots', maxTrials: 7, extra: '  executor: {slots: 2}\n' };
const screened: Scenario = { name: 'screened', maxTrials: 8, extra: '  fidelity: {screen_budget: 2s, promote_top: 0.5}\n' };

describe('chaos: research survives a kill at every phase', () => {
  const phases: [Scenario, string, number][] = [
    [serial, 'proposing', 2],
    [serial, 'baseline-repeat', 2],
    [serial, 'measured', 1],
    [serial, 'measured', 3],
    [serial, 'rerun', 1],
    [serial, 'incumbent-check', 1],
    [serial, 'before-keep', 2],
    [serial, 'after-keep', 2],
    [serial, 'holdout', 1],
    [twoSlots, 'measured', 4],
    [twoSlots, 'after-keep', 2],
    [twoSlots, 'rebased', 1],
    [screened, 'promoted', 1],
  ];
  for (const [scenario, phase, n] of phases) {
    for (const group of [false, true]) {
      it(`${scenario.name}: kill -9 ${group ? 'of the process group' : 'of the orchestrator alone'} at ${phase} #${n}`, async () => {
        const { landed } = await sequence(scenario, [{ phase, n, group }], `${scenario.name} ${phase}:${n}${group ? ':group' : ''}`);
        expect(landed, `the kill at ${phase} #${n} never landed: the phase was not reached`).toEqual([true]);
      }, 120_000);
    }
  }
});

describe('chaos: research survives random kills', () => {
  const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 100_000);
  for (const [scenario, kills] of [[serial, 12], [twoSlots, 8]] as const) {
    it(`${scenario.name}: ${kills} random kills in a row, then a resume to the end (CHAOS_SEED=${seed})`, async () => {
      const random = seededRandom(seed + scenario.maxTrials);
      const plans = Array.from({ length: kills }, () => ({ afterMs: 900 + Math.floor(random() * 2500), group: random() < 0.5 }));
      console.log(`chaos ${scenario.name}: CHAOS_SEED=${seed} kills ${JSON.stringify(plans)}`);
      await sequence(scenario, plans, `${scenario.name} random (CHAOS_SEED=${seed})`);
    }, 300_000);
  }

  it('Ctrl-C during the baseline repeats and during a confirmation pauses, and the next run finishes the decisions', async () => {
    const repo = makeStudy({ ...serial, name: 'ctrlc' });
    for (const delay of [1800, 4200]) {
      const { spawn } = await import('node:child_process');
      const child = spawn(process.execPath, [join(import.meta.dirname, '..', '..', 'bin', 'strata.js'), 'research'], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      setTimeout(() => child.kill('SIGINT'), delay);
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect(stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
      expect([0, 130]).toContain(code);
      expect(readStudy(repo, 'ctrlc').state).toMatch(/paused|done/);
    }
    const run = await strata(repo, ['research']);
    expect(run.code, run.stderr).toBe(0);
    expect(checkInvariants(repo, 'ctrlc', { maxTrials: serial.maxTrials, earlier: [] })).toEqual([]);
  }, 120_000);
});

describe('faults the study survives with a clear message', () => {
  it('a study branch moved outside Strata pauses the study with the command that puts it back; after it, the study finishes', async () => {
    const repo = makeStudy({ ...serial, name: 'moved', maxTrials: 3 });
    await strata(repo, ['research'], { kill: { phase: 'measured', n: 3 } });
    // The user commits something else on the study branch.
    gitIn(repo, 'checkout', '-q', 'strata/moved');
    writeFileSync(join(repo, 'notes.txt'), 'mine\n');
    gitIn(repo, 'add', 'notes.txt');
    gitIn(repo, 'commit', '-q', '-m', 'my own commit');
    gitIn(repo, 'checkout', '-q', 'main');
    const mine = gitIn(repo, 'rev-parse', 'strata/moved');
    const paused = await strata(repo, ['research']);
    expect(paused.code).not.toBe(0);
    expect(paused.stderr).toMatch(/branch strata\/moved was moved outside Strata/);
    expect(paused.stderr).toMatch(/git branch -f strata\/moved [0-9a-f]{40}/);
    expect(paused.stderr).not.toMatch(/\n\s+at /);
    expect(gitIn(repo, 'rev-parse', 'strata/moved')).toBe(mine);
    expect(readStudy(repo, 'moved').state).toBe('paused');
    const fix = /git branch -f strata\/moved ([0-9a-f]{40})/.exec(paused.stderr)![1]!;
    gitIn(repo, 'branch', '-f', 'strata/moved', fix);
    const resumed = await strata(repo, ['research']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(checkInvariants(repo, 'moved', { maxTrials: 3, earlier: [] })).toEqual([]);
  }, 120_000);
});
