/**
 * The chaos suite for evolve studies and pipelines: `strata evolve` and
 * `strata pipeline` killed with SIGKILL (the orchestrator alone, or its whole
 * process group) at random moments, then resumed to the end. An evolve run's
 * result must equal an uninterrupted run's; a pipeline must finish every
 * stage; `strata ledger check` must pass. CHAOS_SEED=<n> replays a sequence.
 */
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ledger } from '../../src/ledger/ledger.ts';
import { triageLines, triageModel } from '../helpers/triage-task.ts';
import { LoopbackModelServer, type LoopbackRequest } from '../helpers/loopback-model.ts';
import { pipelineRepo, pipelineYaml, scriptedModels } from '../pipeline/pipeline-fixtures.ts';
import { ledgerCheck, seededRandom, strata, type KillPlan, type StrataRun } from './chaos-harness.ts';


let server: LoopbackModelServer;
beforeAll(async () => {
  // A little latency, so kills land inside model calls as well as between them.
  server = await LoopbackModelServer.start(async (request) => {
    await new Promise((resolve) => setTimeout(resolve, 15));
    return triageModel(request);
  });
});
afterAll(async () => {
  await server.close();
});

function evolveDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'strata-chaos-evolve-'));
  const lines = triageLines;
  mkdirSync(join(dir, 'data'));
  mkdirSync(join(dir, 'prompts'));
  writeFileSync(join(dir, 'data', 'train.jsonl'), lines('t', 12));
  writeFileSync(join(dir, 'data', 'val.jsonl'), lines('v', 6));
  writeFileSync(join(dir, 'prompts', 'system.txt'), 'Classify the ticket as billing, bug or account.\n');
  const model = (name: string) => `{model: "openai-compatible:${name}", base_url: "${server.url}", prices: {input_per_mtok: 1, output_per_mtok: 4}}`;
  writeFileSync(
    join(dir, 'strata.yaml'),
    `name: triage
evolve:
  seed: {system_prompt: prompts/system.txt}
  data: {train: data/train.jsonl, val: data/val.jsonl}
  task_model: ${model('task')}
  reflection_model: ${model('reflect')}
  metric: {kind: exact}
  budget: {metric_calls: 90, usd: 1}
  concurrency: 1
`,
  );
  return dir;
}

/** What an evolve study found: every candidate's texts and validation mean, in order, and the state. */
function evolveResult(dir: string): { state: string; pool: string[] } {
  // Killed before the study was created: nothing to compare yet.
  if (!existsSync(join(dir, '.strata', 'ledger.db'))) return { state: 'missing', pool: [] };
  const ledger = Ledger.open(join(dir, '.strata', 'ledger.db'));
  try {
    const study = ledger.studyByName('triage');
    if (!study) return { state: 'missing', pool: [] };
    return { state: study.state, pool: ledger.evolve.pool(study.id).map((candidate) => `${candidate.idx}:${JSON.stringify(candidate.components)}:${candidate.valMean}`) };
  } finally {
    ledger.close();
  }
}

/**
 * Run `run` with a SIGKILL at a random moment of the first 10–60% of an uninterrupted run's duration (`straightMs`,
 * measured just before on this machine), up to `times` times, until a run ends without the kill landing (the work is
 * done). Returns how many kills landed.
 */
async function killRepeatedly(seed: number, straightMs: number, times: number, run: (kill: KillPlan) => Promise<StrataRun>, label: string): Promise<number> {
  const random = seededRandom(seed);
  let landed = 0;
  for (let index = 0; index < times; index++) {
    const kill = { afterMs: Math.floor(straightMs * (0.1 + 0.5 * random())), group: random() < 0.5 };
    const result = await run(kill);
    console.log(`chaos ${label}: CHAOS_SEED=${seed} kill ${JSON.stringify(kill)} of a ${straightMs} ms run: ${result.signal === 'SIGKILL' ? 'landed' : `ended first (${result.code})`}`);
    expect(result.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
    if (result.signal !== 'SIGKILL') {
      expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
      break;
    }
    landed++;
  }
  return landed;
}

describe('chaos: evolve and pipelines survive random kills', () => {
  const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 100_000);

  it(`evolve: killed 6 times at random, the result equals an uninterrupted run's (CHAOS_SEED=${seed})`, async () => {
    const reference = evolveDir();
    const started = Date.now();
    const straight = await strata(reference, ['evolve']);
    const straightMs = Date.now() - started;
    expect(straight.code, straight.stderr).toBe(0);
    const expected = evolveResult(reference);
    expect(expected.state).toBe('done');
    expect(expected.pool.length).toBeGreaterThan(1);

    const dir = evolveDir();
    const landed = await killRepeatedly(seed, straightMs, 6, (kill) => strata(dir, ['evolve'], { kill }), 'evolve');
    // Kill times are drawn from the uninterrupted run's duration on this machine, so the first lands unless the load changed.
    expect(landed, 'no kill landed before the study ended').toBeGreaterThanOrEqual(1);
    for (let attempt = 0; evolveResult(dir).state !== 'done'; attempt++) {
      const run = await strata(dir, ['evolve']);
      expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
      if (attempt > 2) throw new Error('evolve not done after 3 resumes');
    }
    expect(evolveResult(dir)).toEqual(expected);
    expect(await ledgerCheck(dir)).toEqual([]);
  }, 300_000);

  it(`pipeline: killed 5 times at random, every stage finishes and the ledger checks (CHAOS_SEED=${seed})`, async () => {
    const pipelineServer = await LoopbackModelServer.start(scriptedModels());
    try {
      const reference = pipelineRepo(pipelineYaml(pipelineServer.url));
      const started = Date.now();
      const straight = await strata(reference.repo, ['pipeline', '--config', 'pipeline.yaml']);
      const straightMs = Date.now() - started;
      expect(straight.code, `${straight.stdout}\n${straight.stderr}`).toBe(0);
      const { repo } = pipelineRepo(pipelineYaml(pipelineServer.url));
      const landed = await killRepeatedly(seed + 1, straightMs, 5, (kill) => strata(repo, ['pipeline', '--config', 'pipeline.yaml'], { kill }), 'pipeline');
      expect(landed, 'no kill landed before the pipeline ended').toBeGreaterThanOrEqual(1);
      const done = await strata(repo, ['pipeline', '--config', 'pipeline.yaml']);
      expect(done.code, `${done.stdout}\n${done.stderr}`).toBe(0);
      const ledger = Ledger.open(join(repo, '.strata', 'ledger.db'));
      try {
        expect(ledger.studyByName('pipe')!.state).toBe('done');
        for (const stage of ['pipe/explore', 'pipe/exploit']) expect(ledger.studyByName(stage)?.state, stage).toBe('done');
        const live = ledger.studies().flatMap((study) => ledger.trials(study.id)).filter((trial) => trial.status === 'queued' || trial.status === 'running');
        expect(live).toEqual([]);
      } finally {
        ledger.close();
      }
      expect(await ledgerCheck(repo)).toEqual([]);
    } finally {
      await pipelineServer.close();
    }
  }, 300_000);
});
