/**
 * Oversight of pipelines: the pipeline's `oversight:` reaches every stage's
 * study, research and evolve (a stage's own keys replace the top-level
 * ones); `strata pause` and `strata stop` from another process act on a
 * running pipeline. Real processes, real git, the loopback model, a loopback
 * webhook receiver.
 */
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config/parse-config.ts';
import { ConfigError } from '../../src/core/errors.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { checkLedger } from '../../src/ledger/ledger-check.ts';
import { evolveStageConfig, normalizePipeline, researchStageConfig } from '../../src/pipeline/pipeline-config.ts';
import { LoopbackModelServer } from '../helpers/loopback-model.ts';
import { strataProcess, until } from '../helpers/strata-process.ts';
import { makeRepo } from '../helpers/study-repo.ts';
import { pipelineRepo, pipelineYaml, researchSection, scriptedModels, TRAINER } from '../pipeline/pipeline-fixtures.ts';

let model: LoopbackModelServer;
let hook: { url: string; bodies: Record<string, unknown>[] };
let server: Server;
beforeAll(async () => {
  model = await LoopbackModelServer.start(scriptedModels());
  const bodies: Record<string, unknown>[] = [];
  server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => {
      bodies.push(JSON.parse(text) as Record<string, unknown>);
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  hook = { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hooks/SECRET-TOKEN-789`, bodies };
});
afterAll(async () => {
  await model.close();
  await new Promise((resolve) => server.close(resolve));
});

function studies(repo: string) {
  const ledger = Ledger.open(join(repo, '.strata', 'ledger.db'));
  try {
    return Object.fromEntries(ledger.studies().map((study) => [study.name, study]));
  } finally {
    ledger.close();
  }
}

const load = (configPath: string) => normalizePipeline(parseConfig(readFileSync(configPath, 'utf8'), configPath), configPath);

describe("a pipeline's oversight", () => {
  it('reaches each stage: the evolve stage pauses at its new best, the research stage at its kept change; the evolve stage leaves out diff_lines, saying so', async () => {
    const oversight = `oversight:\n  pause_on: {new_best: true, diff_lines: 1}\n  notify:\n    - webhook: {url_env: STRATA_TEST_WEBHOOK}\n      on: [new_best, paused, done]\n`;
    const { repo } = pipelineRepo(pipelineYaml(model.url, { extra: oversight }));
    const env = { STRATA_TEST_WEBHOOK: hook.url };

    const first = await strataProcess(repo, ['pipeline', '--config', 'pipeline.yaml'], { env });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('note: stage explore does not watch the top-level oversight.pause_on.diff_lines: an evolve study keeps rewritten texts, not code changes');
    let now = studies(repo);
    expect(now['pipe/explore']).toMatchObject({ state: 'paused', stopCause: 'oversight', stopReason: expect.stringMatching(/^paused by oversight\.pause_on\.new_best: #1 is the new best/) });
    expect(now.pipe).toMatchObject({ state: 'paused', stopCause: 'oversight' });
    expect(now['pipe/exploit']).toBeUndefined();

    // Run again: the evolve stage ends within its budget, the research stage pauses after its first kept change (2 changed lines).
    const second = await strataProcess(repo, ['pipeline', '--config', 'pipeline.yaml'], { env });
    expect(second.code, second.stderr).toBe(0);
    now = studies(repo);
    expect(now['pipe/explore']!.state).toBe('done');
    expect(now['pipe/exploit']).toMatchObject({ state: 'paused', stopCause: 'oversight', stopReason: expect.stringMatching(/^paused by oversight\.pause_on\.diff_lines: kept #1 changes 2 lines \(more than 1\)/) });
    expect(now.pipe!.state).toBe('paused');
    await until(() => hook.bodies.filter((body) => body.topic === 'paused').length >= 2, 'both stages paused notifications');
    expect(hook.bodies.map((body) => `${body.study} ${body.topic}`)).toEqual(['pipe/explore new_best', 'pipe/explore paused', 'pipe/explore done', 'pipe/exploit new_best', 'pipe/exploit paused']);
    for (const run of [first, second]) expect(run.stdout + run.stderr).not.toContain('SECRET-TOKEN-789');
  }, 300_000);

  it("a stage's own oversight replaces the top-level keys; a condition the evolve stage cannot watch, written on it, is a config error at its dot path", () => {
    const top = 'oversight:\n  pause_on: {new_best: true}\n  notify:\n    - command: "true"\n';
    const own = '    oversight:\n      pause_on: {crash_streak: 2}\n';
    const { configPath } = pipelineRepo(pipelineYaml(model.url, { extra: top, explore: own }));
    const pipeline = load(configPath);
    const keep = (value: string) => value;
    const [explore, exploit] = pipeline.stages;
    expect(evolveStageConfig(pipeline, explore!, keep).oversight).toMatchObject({ pauseOn: { newBest: false, crashStreak: 2 }, notify: [{ kind: 'command', command: 'true' }] });
    expect(researchStageConfig(pipeline, exploit!, keep).oversight).toMatchObject({ pauseOn: { newBest: true }, notify: [{ kind: 'command' }] });

    const bad = pipelineRepo(pipelineYaml(model.url, { explore: '    oversight:\n      pause_on: {diff_lines: 10, holdout_gap: 0.1}\n' }));
    const error = (() => {
      try {
        load(bad.configPath);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.map((issue) => issue.path)).toEqual(['pipeline.0.oversight.pause_on.diff_lines', 'pipeline.0.oversight.pause_on.holdout_gap']);
  });
});

describe('strata pause and strata stop on a running pipeline (another process)', () => {
  it('pause finishes the running trial of the running stage and pauses the pipeline; stop ends the pipeline done', async () => {
    // Two research stages whose trials take a second each.
    const yaml = `name: pipe
${researchSection().replace(JSON.stringify(`${process.execPath} train.mjs`), JSON.stringify(`sleep 1 && ${process.execPath} train.mjs`)).replace('proposer: agent', 'proposer: search\n  params: {x: {type: float, low: -5, high: 5}}').replace('max_trials: 3', 'max_trials: 40')}pipeline:
  - stage: first
    research: {}
  - stage: second
    research: {}
`;
    const repo = makeRepo({ 'train.mjs': TRAINER.replace('const x = 3;', 'const x = Number(process.env.STRATA_PARAM_X ?? 3);'), 'data/x.txt': 'data', 'pipeline.yaml': yaml });
    const runningTrial = () => {
      try {
        const ledger = Ledger.open(join(repo, '.strata', 'ledger.db'));
        try {
          const stage = ledger.studyByName('pipe/first');
          return stage !== undefined && ledger.trials(stage.id).some((trial) => trial.status === 'running' && trial.seq >= 1);
        } finally {
          ledger.close();
        }
      } catch {
        return false; // the ledger is being created
      }
    };
    const first = await strataProcess(repo, ['pipeline', '--config', 'pipeline.yaml'], {
      during: async () => {
        await until(runningTrial, 'a running trial of stage first', 60_000);
        const pause = await strataProcess(repo, ['pause', '--config', 'pipeline.yaml', '--why', 'review']);
        expect(pause.code, pause.stderr).toBe(0);
        expect(pause.stdout).toMatch(/study pipe\/first: pausing after the running trials finish/);
      },
    });
    expect(first.code, first.stderr).toBe(0);
    let now = studies(repo);
    expect(now['pipe/first']).toMatchObject({ state: 'paused', stopCause: 'oversight', stopReason: expect.stringMatching(/^paused by \S+ from the cli: review/) });
    expect(now.pipe).toMatchObject({ state: 'paused', stopCause: 'oversight' });
    expect(now['pipe/second']).toBeUndefined();
    const ledger = Ledger.open(join(repo, '.strata', 'ledger.db'));
    // Graceful: no trial was cut short.
    expect(ledger.trials(now['pipe/first']!.id).filter((trial) => trial.status === 'interrupted' && trial.cause !== 'not-started')).toEqual([]);
    ledger.close();

    const second = await strataProcess(repo, ['pipeline', '--config', 'pipeline.yaml'], {
      during: async () => {
        await until(() => runningTrial() && studies(repo).pipe?.state === 'running', 'the resumed pipeline running a trial', 60_000);
        const stop = await strataProcess(repo, ['stop', '--config', 'pipeline.yaml', '--why', 'enough']);
        expect(stop.code, stop.stderr).toBe(0);
        expect(stop.stdout).toMatch(/pipe is done: stopped by \S+ from the cli: enough/);
      },
    });
    expect(second.code, second.stderr).toBe(0);
    now = studies(repo);
    expect(now.pipe).toMatchObject({ state: 'done', stopCause: 'oversight' });
    // The stage was stopped where it was (paused, resumable), and the next stage never started.
    expect(now['pipe/first']!.state).toBe('paused');
    expect(now['pipe/second']).toBeUndefined();
    const after = Ledger.open(join(repo, '.strata', 'ledger.db'));
    expect(checkLedger(after).ok).toBe(true);
    after.close();
  }, 240_000);
});
