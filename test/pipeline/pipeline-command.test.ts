import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pipelineCommand } from '../../src/cli/commands/pipeline.ts';
import type { PipelineComparison } from '../../src/pipeline/compare-plain.ts';
import type { PipelineSummary } from '../../src/pipeline/pipeline-summary.ts';
import { LoopbackModelServer } from '../helpers/loopback-model.ts';
import { gitIn } from '../helpers/study-repo.ts';
import { pipelineRepo, pipelineYaml, scriptedModels } from './pipeline-fixtures.ts';

let server: LoopbackModelServer;
beforeAll(async () => {
  server = await LoopbackModelServer.start(scriptedModels());
});
afterAll(async () => server.close());

function capture() {
  const out = new PassThrough();
  let text = '';
  out.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { out, text: () => text };
}

describe('strata pipeline', () => {
  it('--compare --json: plain research with the top-level section gets the trials the pipeline spent, from the same commit', async () => {
    const { repo } = pipelineRepo(pipelineYaml(server.url));
    const { out, text } = capture();
    const code = await pipelineCommand({ config: 'pipeline.yaml', cwd: repo, json: true, compare: true, out });
    expect(code).toBe(0);
    const result = JSON.parse(text()) as PipelineSummary & { comparison: PipelineComparison };
    expect(result.pipeline.state).toBe('done');
    const comparison = result.comparison;
    expect(comparison.plain.spend.trials).toBe(result.totals.trials);
    expect(comparison.pipeline.spend.trials).toBe(15);
    expect(comparison.models).toEqual({ agent: 'openai-compatible:loop', reflection: ['openai-compatible:loop'] });
    // plain research follows the seed program (small steps), the pipeline's research stage the evolved one (bold steps)
    expect(comparison.pipeline.best).toBeLessThan(comparison.plain.baseline!);
    expect(comparison.winner).toMatch(/^(pipeline|plain|tie)$/);
    expect(result.plain).toMatchObject({ study: 'pipe/plain', state: 'done' });
    const plainBase = gitIn(repo, 'rev-list', '--max-parents=0', 'strata/pipe/plain');
    expect(plainBase).toBe(gitIn(repo, 'rev-list', '--max-parents=0', 'strata/pipe/exploit'));
  }, 240_000);

  it('prints each stage, each evaluation, and the stages at the end', async () => {
    const { repo } = pipelineRepo(pipelineYaml(server.url));
    const { out, text } = capture();
    expect(await pipelineCommand({ config: 'pipeline.yaml', cwd: repo, out })).toBe(0);
    const printed = text();
    expect(printed).toContain('strata pipeline · pipe  (new pipeline, from ');
    expect(printed).toContain('stages: explore (evolve) → exploit (research)');
    expect(printed).toMatch(/stage explore {2}evolve · study pipe\/explore/);
    expect(printed).toMatch(/ {4}[0-9a-f]{10} on seed-1: score 0\.\d{4} after 3 trials/);
    expect(printed).toMatch(/stage explore done \(metric_calls[^)]*\): best score 0\.\d{4} \(seed 0\.\d{4}\) · commit [0-9a-f]{8} · 12 trials/);
    expect(printed).toMatch(/\$\{explore\.best\.program\} = \.strata\/pipelines\/pipe\/exploit\/inputs\/research-program\.txt \(Research program for x\.… \(55 chars\)\)/);
    expect(printed).toMatch(/strata research · pipe\/exploit/);
    expect(printed).toMatch(/pipe {2}pipeline · done \(2 stages done\)/);
  }, 240_000);
});
