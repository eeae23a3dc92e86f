import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evolveCommand } from '../../src/cli/commands/evolve.ts';
import { parseConfig } from '../../src/core/config/parse-config.ts';
import { evolveStageConfig, normalizePipeline } from '../../src/pipeline/pipeline-config.ts';
import { LoopbackModelServer } from '../helpers/loopback-model.ts';

/** One local server for every model, named once under llm: (the papercut: evolve models ignored llm.base_url). */

let server: LoopbackModelServer;
let dir: string;
beforeAll(async () => {
  server = await LoopbackModelServer.start((request) =>
    request.lastUserText.includes('improving one part of the instructions') ? { text: '```\nAnswer with the word yes.\n```' } : { text: 'yes', usage: { input: 20, output: 1 } },
  );
  dir = mkdtempSync(join(tmpdir(), 'strata-llm-inherit-'));
  mkdirSync(join(dir, 'data'));
  mkdirSync(join(dir, 'prompts'));
  const examples = Array.from({ length: 4 }, (_, index) => JSON.stringify({ id: index, input: `question ${index}`, answer: 'yes' })).join('\n');
  writeFileSync(join(dir, 'data/train.jsonl'), examples);
  writeFileSync(join(dir, 'data/val.jsonl'), examples);
  writeFileSync(join(dir, 'prompts/system.txt'), 'Answer.\n');
});
afterAll(async () => {
  await server.close();
});

const evolveYaml = (url: string, extra = '') => `name: inherit
llm: {model: "openai-compatible:reflect", base_url: "${url}", api_key_env: LOCAL_MODEL_KEY}
evolve:
  seed: {system_prompt: prompts/system.txt}
  data: {train: data/train.jsonl, val: data/val.jsonl}
  task_model: openai-compatible:task
  metric: {kind: exact}
  budget: {metric_calls: 12}
${extra}`;

describe('model references inherit the llm: section endpoint', () => {
  it('an evolve run reaches the task and reflection models at llm.base_url with llm.api_key_env', async () => {
    writeFileSync(join(dir, 'strata.yaml'), evolveYaml(server.url));
    const out = new PassThrough();
    out.resume();
    const code = await evolveCommand({ config: 'strata.yaml', cwd: dir, out, env: { ...process.env, LOCAL_MODEL_KEY: 'sk-local-7' } });
    expect(code).toBe(0);
    const models = new Set(server.requests.map((request) => request.model));
    expect(models).toEqual(new Set(['task', 'reflect']));
    expect(server.requests.every((request) => request.headers.authorization === 'Bearer sk-local-7')).toBe(true);
  });

  it('applies to the judge model and to pipeline evolve stages; never across providers; a model with its own endpoint keeps it', () => {
    const url = 'http://127.0.0.1:9/v1';
    const config = parseConfig(
      evolveYaml(url).replace('metric: {kind: exact}', 'metric: {kind: judge, rubric: "is it yes?", model: openai-compatible:judge}').replace(
        'task_model: openai-compatible:task',
        'task_model: openai:gpt-4.1-mini\n  reflection_model: {model: "openai-compatible:own", base_url: "http://10.0.0.2:8000/v1"}',
      ),
    );
    expect(config.evolve!.metric).toMatchObject({ kind: 'judge', model: { name: 'openai-compatible:judge', baseUrl: url, apiKeyEnv: 'LOCAL_MODEL_KEY' } });
    expect(config.evolve!.taskModel).toEqual({ name: 'openai:gpt-4.1-mini', provider: 'openai', modelId: 'gpt-4.1-mini' });
    expect(config.evolve!.reflectionModel).toEqual({ name: 'openai-compatible:own', provider: 'openai-compatible', modelId: 'own', baseUrl: 'http://10.0.0.2:8000/v1', apiKeyEnv: 'LOCAL_MODEL_KEY' });

    const pipelineYaml = `name: staged
llm: {model: "openai-compatible:reflect", base_url: "${url}"}
research:
  editable: [train.py]
  run: python3 train.py
  budget: 10s
  metric: {name: loss, goal: minimize}
  params: {lr: {type: float, low: 0.001, high: 0.1}}
pipeline:
  - stage: prompts
    evolve:
      seed: {system_prompt: prompts/system.txt}
      data: {train: data/train.jsonl, val: data/val.jsonl}
      task_model: openai-compatible:task
      metric: {kind: exact}
      budget: {metric_calls: 12}
`;
    const pipeline = normalizePipeline(parseConfig(pipelineYaml, join(dir, 'pipeline.yaml')), join(dir, 'pipeline.yaml'));
    const stage = evolveStageConfig(pipeline, pipeline.stages[0]!, (text) => text);
    expect(stage.evolve!.taskModel).toMatchObject({ name: 'openai-compatible:task', baseUrl: url });
    expect(stage.evolve!.reflectionModel).toMatchObject({ name: 'openai-compatible:reflect', baseUrl: url });
  });

  it('without any base_url the error says both ways to give one', () => {
    expect(() => parseConfig(evolveYaml(server.url).replace(/^llm: .*$/m, 'llm: {model: "openai:gpt-4.1"}'))).toThrow(
      'evolve.task_model: an openai-compatible model needs a base_url (e.g. http://127.0.0.1:8000/v1): use the long form { model, base_url }, or set llm.base_url with an openai-compatible llm.model',
    );
  });
});
