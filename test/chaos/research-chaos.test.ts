/**
 * The chaos suite for research studies: a real `strata research` on a real
 * repository, SIGKILLed — alone or with its whole process group — at every
 * named phase and at random moments, then resumed until it is done. After
 * each sequence the invariants of chaos-harness.ts must hold and `strata
 * ledger check` must pass. Seeds are printed: CHAOS_SEED=<n> replays one.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gitIn, makeRepo } from '../helpers/study-repo.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { StudyTrials } from '../../src/study/study-trials.ts';
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
  /** Code changes by a command proposer (KNOB_*) instead of the search proposer's parameters. */
  code?: boolean;
}

function makeStudy(scenario: Scenario): string {
  const proposer = scenario.code
    ? `  proposer: command\n  agent_command: ${JSON.stringify(`${process.execPath} propose.mjs`)}\n`
    : '  proposer: search\n  params:\n    x: {type: float, low: -5, high: 5}\n  search: {sampler: tpe, seed: 11, startup_trials: 3}\n';
  const yaml = `name: ${scenario.name}
research:
  editable: [train.mjs]
  run: ${JSON.stringify(`${process.execPath} train.mjs`)}
  budget: 5s
  metric: {name: loss, goal: minimize}
${proposer}  acceptance: {rule: noise-aware, baseline_repeats: 3, confirm_repeats: 2, recheck_every: 2}
  holdout: ${JSON.stringify(`${process.execPath} holdout.mjs`)}
  max_trials: ${scenario.maxTrials}
${scenario.extra ?? ''}`;
  const files: Record<string, string> = scenario.code ? { 'train.mjs': KNOB_TRAINER, 'propose.mjs': KNOB_PROPOSER } : { 'train.mjs': TRAINER };
  return makeRepo({ ...files, 'holdout.mjs': HOLDOUT, 'strata.yaml': yaml }, { prefix: 'strata-chaos-' });
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
    expect(run.code, `${label}: resume ${attempt} in ${repo} exited ${run.code}: ${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stderr).not.toMatch(/unsettled top-level await/);
    if (attempt > 3) throw new Error(`${label}: not done after ${attempt} resumes: ${readStudy(repo, scenario.name).stopReason}`);
  }
  if (process.env.CHAOS_DUMP) console.log(readStudy(repo, scenario.name).trials.map((t) => `#${t.seq} ${t.role} ${t.status} ${t.cause} rel=${t.relatedTrialId} ${t.startedAt?.slice(17)} ${t.endedAt?.slice(17)} ${t.description} :: ${t.statusReason}`).join("\n"));
  const problems = [...checkInvariants(repo, scenario.name, { maxTrials: scenario.maxTrials, earlier: snapshots }), ...(await ledgerCheck(repo))];
  expect(problems, `${label} (${repo})`).toEqual([]);
  return { landed };
}

/** Code changes: each proposal turns on one of five knobs (trial seq mod 5), each worth 0.01 — far above the noise. */
const KNOB_TRAINER = `const K0 = 0;
const K1 = 0;
const K2 = 0;
const K3 = 0;
const K4 = 0;
const seed = Number(process.env.STRATA_SEED ?? 0);
const noise = ((Math.imul(seed ^ 0x9e3779b9, 2654435761) >>> 0) % 2001) / 1000000 - 0.001;
await new Promise((resolve) => setTimeout(resolve, 150));
console.log('METRIC loss=' + (1.05 - 0.01 * [K0, K1, K2, K3, K4].filter((k) => k > 0).length + noise));
`;
const KNOB_PROPOSER = `import { readFileSync, writeFileSync } from 'node:fs';
const seq = Number(process.env.STRATA_TRIAL);
const knob = seq % 5;
const lines = readFileSync('train.mjs', 'utf8').split('\\n').map((line) => (line.startsWith('const K' + knob + ' =') ? 'const K' + knob + ' = ' + seq + ';' : line));
writeFileSync('train.mjs', lines.join('\\n'));
console.log('turn on knob ' + knob);
`;

// `serial` and `unspeculative` are the serial loop (speculation is opt-in); `speculative` speculates on one slot.
const serial: Scenario = { name: 'serial', maxTrials: 6 };
const unspeculative: Scenario = { name: 'unspeculative', maxTrials: 5, extra: '  executor: {speculate: false}\n' };
// Every knob improves the loss, so most trials are kept and the proposal made while one runs goes stale and is revised.
const speculativeCode: Scenario = { name: 'speculative', maxTrials: 6, code: true, extra: '  executor: {speculate: true}\n' };
const twoSlots: Scenario = { name: 'slots', maxTrials: 7, extra: '  executor: {slots: 2}\n' };
const twoSlotsCode: Scenario = { name: 'code', maxTrials: 8, code: true, extra: '  executor: {slots: 2}\n' };
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
    [serial, 'ending', 1],
    [unspeculative, 'proposing', 2],
    [speculativeCode, 'speculation-stale', 1],
    [speculativeCode, 'speculation-stale', 2],
    [twoSlots, 'measured', 4],
    [twoSlots, 'after-keep', 2],
    [twoSlotsCode, 'rebased', 1],
    [twoSlotsCode, 'after-keep', 2],
    [screened, 'measured', 2],
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
    // Each press lands while a run of that role is live in the ledger: a baseline repeat, then a confirmation rerun.
    for (const role of ['baseline-repeat', 'rerun']) {
      const child = spawn(process.execPath, [join(import.meta.dirname, '..', '..', 'bin', 'strata.js'), 'research'], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
      const live = await waitFor(() => existsSync(join(repo, '.strata', 'ledger.db')) && readStudy(repo, 'ctrlc').trials.some((trial) => trial.role === role && trial.status === 'running'), closed);
      expect(live, `no ${role} ran before the study ended`).toBe(true);
      child.kill('SIGINT');
      const code = await closed;
      expect(stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
      expect(code).toBe(130);
      expect(readStudy(repo, 'ctrlc').state).toBe('paused');
    }
    const run = await strata(repo, ['research']);
    expect(run.code, run.stderr).toBe(0);
    expect(checkInvariants(repo, 'ctrlc', { maxTrials: serial.maxTrials, earlier: [] })).toEqual([]);
  }, 120_000);
});

/** Poll until `predicate` holds (true) or `ended` settles first (false). */
async function waitFor(predicate: () => boolean, ended: Promise<unknown>): Promise<boolean> {
  let over = false;
  void ended.then(() => (over = true));
  while (!over) {
    try {
      if (predicate()) return true;
    } catch {
      // The ledger is being created: look again.
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return false;
}

const slurmUp = spawnSync('sinfo', ['-h', '-o', '%t'], { encoding: 'utf8' }).status === 0;
if (!slurmUp && !process.env.CI) console.warn('SLURM chaos skipped: no working sinfo here (scripts/slurm-localhost.sh start); in CI it must run');

describe.runIf(slurmUp || process.env.CI)('chaos: research on SLURM survives kills while jobs are submitted and polled', () => {
  const slurmStudy = (): Scenario => ({
    name: 'cluster',
    maxTrials: 5,
    extra: `  executor:\n    kind: slurm\n    slots: 2\n    shared_dir: ${mkdtempSync(join(tmpdir(), 'strata-chaos-shared-'))}\n    slurm: {gpus_per_trial: 1, poll_interval: 0.3s, time_margin: 1m}\n`,
  });
  for (const group of [false, true]) {
    it(`kill -9 ${group ? 'of the process group' : 'of the orchestrator alone'} right after a job is submitted: the job is followed, not submitted again`, async () => {
      const { landed } = await sequence(slurmStudy(), [{ phase: 'submitted', n: 2, group }], `slurm submitted:2${group ? ':group' : ''}`);
      expect(landed).toEqual([true]);
    }, 180_000);
  }
  it('random kills while jobs are polled', async () => {
    const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 100_000);
    const random = seededRandom(seed + 7);
    const plans = Array.from({ length: 4 }, () => ({ afterMs: 1500 + Math.floor(random() * 3000), group: random() < 0.5 }));
    console.log(`chaos slurm: CHAOS_SEED=${seed} kills ${JSON.stringify(plans)}`);
    await sequence(slurmStudy(), plans, `slurm random (CHAOS_SEED=${seed})`);
  }, 300_000);
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

  // Seen in CI on SLURM (CHAOS_SEED=31296): a cluster job of a repeat run outlived its orchestrator, was followed and
  // measured by the next one, and that one was killed too. The measured repeat stayed live forever, and as a live trial it
  // held a place under max_trials: the study ended done one candidate short, "nothing left to run".
  it('a repeat run left measured but unfinished is settled with its measurement, and holds no place under max_trials', async () => {
    const repo = makeStudy({ ...serial, name: 'repeat', maxTrials: 4 });
    const killed = await strata(repo, ['research'], { kill: { phase: 'baseline-repeat', n: 1, group: true } });
    expect(killed.signal).toBe('SIGKILL');
    const ledger = Ledger.open(join(repo, '.strata', 'ledger.db'));
    const studyId = ledger.studyByName('repeat')!.id;
    const trials = new StudyTrials(ledger, studyId);
    const repeat = trials.all().find((trial) => trial.role === 'baseline-repeat' && trial.status === 'running')!;
    trials.measure(repeat, { metric: 1.05, metrics: { loss: 1.05 }, exitCode: 0, signal: null, wallMs: 150, peakRssKb: null, logTail: null });
    ledger.close();
    for (let attempt = 0; readStudy(repo, 'repeat').state !== 'done'; attempt++) {
      const run = await strata(repo, ['research']);
      expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
      if (attempt > 2) throw new Error(`not done after ${attempt} resumes`);
    }
    expect([...checkInvariants(repo, 'repeat', { maxTrials: 4, earlier: [] }), ...(await ledgerCheck(repo))]).toEqual([]);
    const settled = readStudy(repo, 'repeat').trials.find((trial) => trial.id === repeat.id)!;
    expect(settled.status).toBe('discard');
    expect(settled.metric).toBe(1.05);
  }, 120_000);
});
