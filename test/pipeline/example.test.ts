import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { prepareOfflineRepo } from '../../examples/pipeline/offline.ts';
import { agentReply, reflectionReply, tinyLmModels } from '../../examples/pipeline/offline-models.ts';
import { setUpPipelineRepo } from '../../examples/pipeline/setup.ts';
import { pipelineCommand } from '../../src/cli/commands/pipeline.ts';
import { parseConfig } from '../../src/core/config/parse-config.ts';
import { normalizePipeline } from '../../src/pipeline/pipeline-config.ts';
import type { PipelineSummary } from '../../src/pipeline/pipeline-summary.ts';
import { LoopbackModelServer, type LoopbackRequest } from '../helpers/loopback-model.ts';
import { gitIn } from '../helpers/study-repo.ts';

const dirs: string[] = [];
function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pipeline-example-'));
  rmSync(dir, { recursive: true });
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function agentRequest(brief: string, tool = ''): LoopbackRequest {
  return {
    index: 0,
    path: '/v1/chat/completions',
    api: 'openai-chat',
    model: 'scripted',
    stream: false,
    system: '',
    messages: [{ role: 'user', content: brief }, ...(tool ? [{ role: 'tool', content: tool }] : [])],
    lastUserText: brief,
    tools: ['read_file', 'edit_file', 'finish'],
    body: {},
    headers: {},
  };
}

const DEFAULTS = 'const DEFAULTS: Hyperparameters = { lr: 0.0005, hidden: 24, context: 3, embed: 8, init_scale: 1, batch: 32, layers: 1 };';

describe('examples/pipeline', () => {
  it('setup makes a repository with tiny-lm, the built-in program as the seed, and valid pipeline files', () => {
    const repo = setUpPipelineRepo(freshDir(), { offline: true });
    expect(gitIn(repo, 'ls-files').split('\n').sort()).toEqual(['data/corpus.txt', 'offline.yaml', 'pipeline.yaml', 'prepare.ts', 'program.md', 'train.ts']);
    expect(readFileSync(join(repo, 'program.md'), 'utf8')).toBe(readFileSync(new URL('../../templates/program.md', import.meta.url), 'utf8'));
    for (const file of ['pipeline.yaml', 'offline.yaml']) {
      const path = join(repo, file);
      const pipeline = normalizePipeline(parseConfig(readFileSync(path, 'utf8'), path), path);
      expect(pipeline.stages.map((stage) => `${stage.name}:${stage.kind}`)).toEqual(['explore:evolve', 'exploit:research']);
    }
  });

  it('the scripted agent follows the program: its priorities, else its own order; the reflector orders by what helped', () => {
    const brief = (program: string, history = 'No trials have finished yet.') => `# Research program\n\n${program}\n\n# This study\n\n- facts\n\n# History\n\n${history}\n\n# Your task`;
    const edit = (reply: ReturnType<typeof agentReply>) => (reply.toolCalls![1]!.arguments as { description: string }).description;
    expect(agentReply(agentRequest(brief('Work.'))).toolCalls![0]!.name).toBe('read_file');
    expect(edit(agentReply(agentRequest(brief('Work.'), `41: ${DEFAULTS}`)))).toBe('lr 0.0005 → 0.0015 (lr)');
    expect(edit(agentReply(agentRequest(brief('Work.'), `41: ${DEFAULTS}`), ['batch', 'lr', 'hidden', 'context', 'embed', 'init_scale']))).toBe('batch 32 → 64 (batch)');
    expect(edit(agentReply(agentRequest(brief('Work.\n\nPriorities: context, lr'), `41: ${DEFAULTS}`)))).toBe('context 3 → 5 (context)');
    const tried = '  #1 keep val_bpb=2.5 (-0.4): context 3 → 5 (context)\n  #2 keep val_bpb=2.4 (-0.1): context 5 → 7 (context)';
    expect(edit(agentReply(agentRequest(brief('Work.\n\nPriorities: context, lr', tried), `41: ${DEFAULTS}`)))).toBe('lr 0.0005 → 0.0015 (lr)');

    const prompt = `The current text:\n\`\`\`\nWork.\n\n## Priorities\n\nPriorities: lr\n\`\`\`\n**Experiments the agent ran**\ntrial | status | val_bpb | delta vs best | description\n#0 | keep | 3 |  | baseline (unmodified)\n#1 | discard | 3.1 | +0.1 | batch 32 → 64 (batch)\n#2 | keep | 2.9 | -0.1 | embed 8 → 12 (embed)\n#3 | keep | 2.5 | -0.4 | lr 0.0005 → 0.0015 (lr)`;
    expect(reflectionReply(prompt).text).toBe('```\nWork.\n\n## Priorities\n\nPriorities: lr, embed, hidden, context, init_scale, batch\n```');
  });

  it('runs offline end to end at the smallest scale', async () => {
    const server = await LoopbackModelServer.start(tinyLmModels());
    try {
      const repo = prepareOfflineRepo(freshDir(), server.url);
      const config = join(repo, 'offline.yaml');
      // One example, two trials per study, a 2 s budget: the smallest pipeline that still evolves once.
      const small = readFileSync(config, 'utf8')
        .replace('budget: 4s                       # trains', 'budget: 2s                       # trains')
        .replace(/trials: 4\n {8}budget: 4s\n {8}examples: \[\{seed: 1\}, \{seed: 2\}\]/, 'trials: 2\n        budget: 2s\n        examples: [{seed: 1}]')
        .replace('budget: {metric_calls: 8}', 'budget: {metric_calls: 4}')
        .replace(/max_trials: 8\n$/, 'max_trials: 2\n');
      writeFileSync(config, small);
      let json = '';
      const out = new (await import('node:stream')).Writable({ write: (chunk: Buffer, _encoding, done) => ((json += chunk.toString()), done()) });
      expect(await pipelineCommand({ config: 'offline.yaml', cwd: repo, json: true, out })).toBe(0);
      const summary = JSON.parse(json) as PipelineSummary;
      expect(summary.stages.map((stage) => [stage.stage, stage.state])).toEqual([
        ['explore', 'done'],
        ['exploit', 'done'],
      ]);
      expect(summary.stages[0]!.spend).toMatchObject({ evaluations: 2, trials: 4 });
      expect(summary.stages[1]!.spend.trials).toBe(2);
      expect(summary.stages[1]!.best!.metric!).toBeLessThan(summary.stages[1]!.best!.baseline!);
    } finally {
      await server.close();
    }
  }, 240_000);
});
