import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config/parse-config.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { normalizePipeline } from '../../src/pipeline/pipeline-config.ts';
import type { PipelineObserver } from '../../src/pipeline/pipeline-observer.ts';
import { runPipeline } from '../../src/pipeline/run-pipeline.ts';
import { LoopbackModelServer } from '../helpers/loopback-model.ts';
import { BOLD_PROGRAM, pipelineRepo, pipelineYaml, scriptedModels } from './pipeline-fixtures.ts';

let server: LoopbackModelServer;
beforeAll(async () => {
  server = await LoopbackModelServer.start(scriptedModels());
});
afterAll(async () => server.close());

function load(configPath: string) {
  return normalizePipeline(parseConfig(readFileSync(configPath, 'utf8'), configPath), configPath);
}

const reflections = () => server.requests.filter((request) => request.lastUserText.includes('You are improving one part')).length;

describe('resuming a pipeline', () => {
  it('between stages: a finished stage is not run again; the stopped research stage resumes as its study does', async () => {
    const { configPath } = pipelineRepo(pipelineYaml(server.url));
    const controller = new AbortController();
    // Stop after the research stage's baseline.
    const first = await runPipeline({ pipeline: load(configPath), signal: controller.signal, observer: { research: { trialFinished: () => controller.abort() } } });
    expect(first.pipeline.state).toBe('paused');
    expect(first.pipeline.stop_reason).toBe('stage exploit stopped by the user; run again to resume it');
    expect(first.stages.map((stage) => stage.state)).toEqual(['done', 'paused']);
    expect(first.stages[1]!.spend.trials).toBe(1);

    const reflectionsBefore = reflections();
    const skipped: string[] = [];
    const evaluated: string[] = [];
    const second = await runPipeline({
      pipeline: load(configPath),
      observer: { stageSkipped: (info) => skipped.push(info.stage), evaluationStarted: (info) => evaluated.push(info.study) },
    });
    expect(second.pipeline.state).toBe('done');
    expect(skipped).toEqual(['explore']);
    expect(evaluated).toEqual([]);
    expect(reflections()).toBe(reflectionsBefore);
    expect(second.stages[0]!.spend).toEqual(first.stages[0]!.spend);
    expect(second.stages[1]!.spend.trials).toBe(3);
    // the stage started once, whatever the number of runs
    const ledger = Ledger.open(join(configPath, '..', '.strata', 'ledger.db'));
    try {
      const started = ledger.events(ledger.studyByName('pipe')!.id).filter((event) => event.type === 'pipeline.stage_started');
      expect(started.map((event) => (event.payload as { stage: string }).stage)).toEqual(['explore', 'exploit']);
    } finally {
      ledger.close();
    }
  }, 240_000);

  it('stops before the next stage when stopped between stages', async () => {
    const { configPath } = pipelineRepo(pipelineYaml(server.url, { name: 'pipe2' }));
    const controller = new AbortController();
    const summary = await runPipeline({ pipeline: load(configPath), signal: controller.signal, observer: { stageFinished: (info) => info.stage === 'explore' && controller.abort() } });
    expect(summary.pipeline.stop_reason).toBe('stopped by the user before stage exploit; run again to resume');
    expect(summary.stages.map((stage) => stage.state)).toEqual(['done', 'pending']);
  }, 240_000);

  it('inside a stage: a stopped evaluation study resumes as research does, and the evolve study goes on from the ledger', async () => {
    const { configPath } = pipelineRepo(pipelineYaml(server.url));
    const controller = new AbortController();
    let finishedTrials = 0;
    const observer: PipelineObserver = {
      // Stop in the middle of the second evaluation study.
      evaluationResearch: { trialFinished: () => ++finishedTrials === 4 && controller.abort() },
    };
    const first = await runPipeline({ pipeline: load(configPath), signal: controller.signal, observer });
    expect(first.pipeline.state).toBe('paused');
    expect(first.stages.map((stage) => stage.state)).toEqual(['paused', 'pending']);
    const ledgerPath = join(configPath, '..', '.strata', 'ledger.db');
    const interrupted = readStudies(ledgerPath).filter((study) => study.state === 'paused');
    expect(interrupted).toHaveLength(1);
    expect(interrupted[0]!.trials).toBeLessThan(3);

    const resumed: string[] = [];
    const second = await runPipeline({ pipeline: load(configPath), observer: { evaluationStarted: (info) => info.resumed && resumed.push(info.study) } });
    expect(second.pipeline.state).toBe('done');
    expect(resumed).toEqual([interrupted[0]!.name]);
    // the same work as an uninterrupted run: 4 studies of exactly 3 trials, the bold program found, the exploit stage on it
    const studies = readStudies(ledgerPath);
    expect(studies.map((study) => [study.state, study.trials])).toEqual(Array.from({ length: 4 }, () => ['done', 3]));
    expect(second.stages[0]!.best!.components!.program).toBe(BOLD_PROGRAM);
    expect(second.stages[0]!.spend).toMatchObject({ trials: 12, evaluations: 4, metricCalls: 6 });
    expect(second.totals.trials).toBe(15);
  }, 240_000);
});

/** The evaluation studies of stage explore with their state and counted trials. */
function readStudies(ledgerPath: string): { name: string; state: string; trials: number }[] {
  const ledger = Ledger.open(ledgerPath);
  try {
    return ledger
      .studies()
      .filter((study) => study.name.startsWith('pipe/explore/'))
      .map((study) => ({ name: study.name, state: study.state, trials: ledger.trials(study.id).filter((trial) => trial.status !== 'interrupted' && trial.status !== 'queued').length }));
  } finally {
    ledger.close();
  }
}
