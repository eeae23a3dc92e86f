import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config/parse-config.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { normalizePipeline } from '../../src/pipeline/pipeline-config.ts';
import type { PipelineSummary } from '../../src/pipeline/pipeline-summary.ts';
import { runPipeline } from '../../src/pipeline/run-pipeline.ts';
import { LoopbackModelServer } from '../helpers/loopback-model.ts';
import { gitIn, makeRepo } from '../helpers/study-repo.ts';
import { researchSection, scriptedModels } from './pipeline-fixtures.ts';

/** The trainer reads the system prompt a prompt stage evolves: a "bold" prompt shifts its optimum. */
const TRAINER = `import { readFileSync } from 'node:fs';
const shift = readFileSync('prompts/system.txt', 'utf8').includes('bold') ? 1 : 0;
const x = 3;
console.log('METRIC loss=' + ((x - shift - 1) ** 2 + 0.5));
`;

/** Scores a system prompt 1 when it says "bold" (an evolve command metric: no task model). */
const SCORER = `let input = '';
process.stdin.on('data', (chunk) => (input += chunk));
process.stdin.on('end', () => {
  const { candidate } = JSON.parse(input);
  const bold = candidate.system_prompt.includes('bold');
  console.log(JSON.stringify({ score: bold ? 1 : 0, feedback: bold ? 'good' : 'the house style is bold' }));
});
`;

let server: LoopbackModelServer;
beforeAll(async () => {
  server = await LoopbackModelServer.start(scriptedModels({ reflection: () => ({ text: '```\nBe bold.\n```' }) }));
});
afterAll(async () => server.close());

describe('hand-offs and start commits', () => {
  let repo: string;
  let summary: PipelineSummary;

  beforeAll(async () => {
    const yaml = `name: pipe
${researchSection()}llm: {model: 'openai-compatible:loop', base_url: '${server.url}'}
pipeline:
  - stage: prompt
    evolve:
      seed: {system_prompt: prompts/system.txt}
      data: {train: data/train.jsonl, val: data/val.jsonl}
      metric: {kind: command, command: ${JSON.stringify(`${process.execPath} score.mjs`)}}
      budget: {metric_calls: 8}
      minibatch_size: 1
  - stage: code
    handoff: {files: {system_prompt: prompts/system.txt}}
    research: {max_trials: 2}
  - stage: more
    start: \${code.best.commit}
    research: {max_trials: 2, env: {PROMPT_SCORE: '\${prompt.best.score}'}}
`;
    repo = makeRepo({
      'train.mjs': TRAINER,
      'score.mjs': SCORER,
      'prompts/system.txt': 'Be careful.\n',
      'data/train.jsonl': '{"id": "t1", "input": "q", "answer": "a"}\n{"id": "t2", "input": "r", "answer": "b"}\n',
      'data/val.jsonl': '{"id": "v1", "input": "s", "answer": "c"}\n',
      'pipeline.yaml': yaml,
    });
    const configPath = join(repo, 'pipeline.yaml');
    summary = await runPipeline({ pipeline: normalizePipeline(parseConfig(readFileSync(configPath, 'utf8'), configPath), configPath) });
  }, 240_000);

  it('an evolve stage with data and a metric evolves the prompt; its best commit holds it in its file', () => {
    expect(summary.pipeline.state).toBe('done');
    const prompt = summary.stages[0]!;
    expect(prompt.best).toMatchObject({ score: 1, baseline: 0, components: { system_prompt: 'Be bold.' } });
    expect(gitIn(repo, 'show', `${prompt.best!.commit}:prompts/system.txt`)).toBe('Be bold.');
    expect(gitIn(repo, 'rev-parse', 'refs/strata-pipelines/pipe/prompt')).toBe(prompt.best!.commit);
  });

  it('hand-off: the research stage starts from a commit with the evolved prompt in prompts/system.txt, on its branch', () => {
    const code = summary.stages[1]!;
    const handoff = code.started!.handoff!;
    expect(handoff).toMatchObject({ from: 'prompt', files: { system_prompt: 'prompts/system.txt' } });
    expect(code.started!.base_commit).toBe(handoff.commit);
    expect(gitIn(repo, 'show', `${handoff.commit}:prompts/system.txt`)).toBe('Be bold.');
    expect(gitIn(repo, 'rev-parse', `${handoff.commit}^`)).toBe(summary.pipeline.start_commit);
    expect(gitIn(repo, 'merge-base', '--is-ancestor', handoff.commit, 'strata/pipe/code')).toBe('');
    // the trainer read the handed-off prompt: the baseline is at the shifted optimum's distance
    expect(code.best!.baseline).toBe(1.5);
    // the user's checkout is untouched
    expect(readFileSync(join(repo, 'prompts/system.txt'), 'utf8')).toBe('Be careful.\n');
    expect(gitIn(repo, 'status', '--porcelain')).toBe('');
  });

  it('start: ${code.best.commit} and a text reference', () => {
    const [, code, more] = summary.stages;
    expect(more!.started!.start_commit).toBe(code!.best!.commit);
    expect(more!.started!.inputs).toEqual([
      { reference: '${code.best.commit}', value: code!.best!.commit, file: null },
      { reference: '${prompt.best.score}', value: '1', file: null },
    ]);
    const ledger = Ledger.open(join(repo, '.strata', 'ledger.db'));
    try {
      const study = ledger.studyByName('pipe/more')!;
      expect(study.baseCommit).toBe(code!.best!.commit);
      expect((study.config as { research: { env: Record<string, string> } }).research.env).toEqual({ PROMPT_SCORE: '1' });
    } finally {
      ledger.close();
    }
    expect(more!.best!.baseline).toBe(code!.best!.metric);
  });
});
