import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statusCommand } from '../../src/cli/commands/status.ts';
import { LedgerReader } from '../../src/ledger/ledger-reader.ts';
import { createDashboardApp } from '../../src/dashboard/server/dashboard-app.ts';
import type { PipelineView } from '../../src/dashboard/views/pipeline-view.ts';
import { parseConfig } from '../../src/core/config/parse-config.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { normalizePipeline } from '../../src/pipeline/pipeline-config.ts';
import type { PipelineObserver } from '../../src/pipeline/pipeline-observer.ts';
import type { PipelineSummary } from '../../src/pipeline/pipeline-summary.ts';
import { runPipeline } from '../../src/pipeline/run-pipeline.ts';
import { LoopbackModelServer } from '../helpers/loopback-model.ts';
import { gitIn } from '../helpers/study-repo.ts';
import { BOLD_PROGRAM, pipelineRepo, pipelineYaml, scriptedModels, SEED_PROGRAM } from './pipeline-fixtures.ts';

let server: LoopbackModelServer;
beforeAll(async () => {
  server = await LoopbackModelServer.start(scriptedModels());
});
afterAll(async () => server.close());

function load(configPath: string) {
  return normalizePipeline(parseConfig(readFileSync(configPath, 'utf8'), configPath), configPath);
}

function capture() {
  const out = new PassThrough();
  let text = '';
  out.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { out, text: () => text };
}

describe('a pipeline: evolve the research program, then research with it', () => {
  let repo: string;
  let summary: PipelineSummary;
  let ledger: Ledger;
  const evaluations: string[] = [];

  beforeAll(async () => {
    ({ repo } = pipelineRepo(pipelineYaml(server.url)));
    const observer: PipelineObserver = { evaluationFinished: (info) => evaluations.push(`${info.candidate}/${info.example}:${info.cached ? 'cached' : info.score.toFixed(3)}`) };
    summary = await runPipeline({ pipeline: load(join(repo, 'pipeline.yaml')), observer });
    ledger = Ledger.open(join(repo, '.strata', 'ledger.db'));
  }, 240_000);
  afterAll(() => ledger?.close());

  it('runs both stages as studies <pipeline>/<stage> in one ledger', () => {
    expect(summary.pipeline.state).toBe('done');
    expect(summary.stages.map((stage) => [stage.stage, stage.kind, stage.state, stage.study])).toEqual([
      ['explore', 'evolve', 'done', 'pipe/explore'],
      ['exploit', 'research', 'done', 'pipe/exploit'],
    ]);
    expect(ledger.studyByName('pipe')!.kind).toBe('pipeline');
    expect(ledger.studyByName('pipe/explore')!.kind).toBe('evolve');
    expect(ledger.studyByName('pipe/exploit')!.kind).toBe('research');
  });

  it('scores each program by short research studies whose agent follows it, and keeps the bolder one', () => {
    const explore = summary.stages[0]!;
    expect(explore.best?.components?.program).toBe(BOLD_PROGRAM);
    expect(explore.best!.score!).toBeGreaterThan(explore.best!.baseline!);
    // seed on 2 examples, the child on 1 (minibatch) then on the other: 4 studies of 3 trials; the parent's minibatch was read back
    const studies = ledger.studies().filter((study) => study.name.startsWith('pipe/explore/'));
    expect(studies).toHaveLength(4);
    for (const study of studies) expect(ledger.trials(study.id).length).toBe(3);
    expect(evaluations.filter((entry) => entry.endsWith(':cached'))).toHaveLength(2);
    // each evaluation study starts from a commit holding its candidate's program
    for (const study of studies) {
      const program = gitIn(repo, 'show', `${study.baseCommit}:program.md`);
      expect([SEED_PROGRAM, BOLD_PROGRAM]).toContain(program);
    }
    expect(explore.spend).toMatchObject({ trials: 12, runs: 12, evaluations: 4, metricCalls: 6 });
  });

  it('resolves ${explore.best.program} for the research stage: its agent reads the evolved program', () => {
    const exploit = summary.stages[1]!;
    const input = exploit.started!.inputs[0]!;
    expect(input.reference).toBe('${explore.best.program}');
    expect(readFileSync(join(repo, input.file!), 'utf8')).toBe(`${BOLD_PROGRAM}\n`);
    const trials = ledger.trials(ledger.studyByName('pipe/exploit')!.id);
    expect(trials.map((trial) => trial.description)).toEqual(['baseline (unmodified)', 'move x from 3 to 2 (step 1)', 'move x from 2 to 1 (step 1)']);
    // two steps of 1 from x = 3: loss (x-1)^2 falls by 4 (STRATA_SEED adds the same small offset to both)
    expect(exploit.best!.baseline! - exploit.best!.metric!).toBeCloseTo(4, 9);
  });

  it('accounts budget across stages', () => {
    const [explore, exploit] = summary.stages;
    // reflection (on the evolve study) and every agent call (on the evaluation studies) are priced
    expect(explore!.spend.usd).toBeGreaterThan(0);
    expect(exploit!.spend.usd).toBeGreaterThan(0);
    expect(exploit!.spend.trials).toBe(3);
    expect(summary.totals.trials).toBe(explore!.spend.trials + exploit!.spend.trials);
    expect(summary.totals.trialSeconds).toBeCloseTo(explore!.spend.trialSeconds + exploit!.spend.trialSeconds, 6);
    expect(summary.totals.usd).toBeCloseTo(explore!.spend.usd + exploit!.spend.usd, 9);
  });

  it('the dashboard serves the pipeline as its stages, each linking to its study, with the same totals', async () => {
    const reader = LedgerReader.open(join(repo, '.strata', 'ledger.db'));
    const dashboard = createDashboardApp({ reader, token: null });
    try {
      const list = (await (await dashboard.app.request('/api/studies')).json()) as { id: number; name: string; kind: string }[];
      // the pipeline, its two stages and the four evaluation studies, each by name
      expect(list.map((study) => study.name).sort()).toEqual(['pipe', 'pipe/exploit', 'pipe/explore', ...ledger.studies().filter((study) => study.name.startsWith('pipe/explore/')).map((study) => study.name)].sort());
      const id = list.find((study) => study.name === 'pipe')!.id;
      const view = (await (await dashboard.app.request(`/api/studies/${id}`)).json()) as PipelineView;
      expect(view.kind).toBe('pipeline');
      expect(view.stages.map((stage) => [stage.stage, stage.study?.name, stage.study?.state, stage.trials, stage.evaluations])).toEqual([
        ['explore', 'pipe/explore', 'done', 12, 4],
        ['exploit', 'pipe/exploit', 'done', 3, 0],
      ]);
      expect(view.stages[1]!.received!.inputs[0]!.reference).toBe('${explore.best.program}');
      expect(view.totals.trials).toBe(summary.totals.trials);
      expect(view.totals.usd).toBeCloseTo(summary.totals.usd, 9);
    } finally {
      dashboard.close();
      reader.close();
    }
  });

  it('shows the pipeline as its stages in strata status, with what each received', async () => {
    const { out, text } = capture();
    await statusCommand({ config: join(repo, 'pipeline.yaml'), cwd: repo, out });
    expect(text()).toMatch(/^pipe {2}pipeline · done/);
    expect(text()).toMatch(/explore +evolve +done +score 0\.\d+ \(seed 0\.\d+\) · 6 metric calls +12/);
    expect(text()).toMatch(/exploit +research +done +loss 0\.5\d+ \(baseline 4\.5\d+ -88\.\d%\) +3/);
    expect(text()).toContain('exploit received:\n  ${explore.best.program} = Research program for x.… (55 chars) → .strata/pipelines/pipe/exploit/inputs/research-program.txt');
  });
});
