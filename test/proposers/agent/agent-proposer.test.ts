import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentSettings } from '../../../src/core/config/research-config.ts';
import { LlmCallError } from '../../../src/llm/errors.ts';
import { ModelClient } from '../../../src/llm/model-client.ts';
import { AgentProposer } from '../../../src/proposers/agent/agent-proposer.ts';
import { LoopbackModelServer, type LoopbackReply, type LoopbackScript } from '../../helpers/loopback-model.ts';
import { projectDir, proposalContext, summary, TRAINER } from './agent-fixtures.ts';

let server: LoopbackModelServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const SETTINGS: AgentSettings = { editFormat: 'tools', maxFixAttempts: 2, timeoutMs: 30_000, maxSteps: 8, promptTokens: 32_000, historyTrials: 12 };

async function agent(script: LoopbackScript, settings: Partial<AgentSettings> = {}) {
  server = await LoopbackModelServer.start(script);
  const client = new ModelClient({
    model: { name: 'openai:gpt-4.1-mini', provider: 'openai', modelId: 'gpt-4.1-mini', baseUrl: server.url },
    env: { OPENAI_API_KEY: 'k' },
    retry: { baseDelayMs: 5, maxDelayMs: 20 },
  });
  return new AgentProposer({ client, program: 'Make the loss small. Keep it simple.', settings: { ...SETTINGS, ...settings } });
}

const call = (name: string, args: unknown): NonNullable<LoopbackReply['toolCalls']>[number] => ({ name, arguments: args });
const finish = (description: string, hypothesis = 'loss is (x-1)^2') => call('finish', { description, hypothesis });
/** The text of every tool result the model was sent in request `index`. */
const toolResults = (index: number) => server!.requests[index]!.messages.filter((m) => m.role === 'tool').map((m) => m.content);

describe('the agent with tools (over loopback HTTP)', () => {
  it('reads, edits and finishes; the description, hypothesis, model and cost come back', async () => {
    const dir = projectDir({ 'train.mjs': TRAINER, 'data/x.txt': 'data' });
    const proposer = await agent([
      { toolCalls: [call('list_files', {}), call('read_file', { path: 'train.mjs', start_line: 1, end_line: 1 })], usage: { input: 1000, output: 50 } },
      { toolCalls: [call('edit_file', { path: 'train.mjs', old_text: 'const x = 3;', new_text: 'const x = 1;' }), finish('set x to the optimum')], usage: { input: 1200, output: 80 } },
    ]);
    const proposal = await proposer.propose(proposalContext(dir));
    expect(readFileSync(join(dir, 'train.mjs'), 'utf8')).toContain('const x = 1;');
    expect(proposal.description).toBe('set x to the optimum');
    expect(proposal.meta).toMatchObject({ hypothesis: 'loss is (x-1)^2', model: 'openai:gpt-4.1-mini', editFormat: 'tools', calls: 2, inputTokens: 2200, outputTokens: 130, changed: ['train.mjs'] });
    expect((proposal.meta!.usd as number)).toBeCloseTo((2200 * 0.4 + 130 * 1.6) / 1e6, 12);

    const first = server!.requests[0]!;
    expect(first.tools).toEqual(['list_files', 'read_file', 'search', 'edit_file', 'write_file', 'show_results', 'show_log', 'finish']);
    expect(first.system).toContain('call finish');
    expect(first.lastUserText).toContain('Make the loss small');
    expect(first.lastUserText).toContain('Editable files: train.mjs (');
    expect(first.lastUserText).toContain('Metric: loss, goal: minimize it');
    const results = toolResults(1);
    expect(results[0]).toContain('train.mjs  ');
    expect(results[0]).toContain('(editable)');
    expect(results[1]).toBe('    1  const x = 3;\n[lines 1-1 of 3; read on with start_line 2]');
  });

  it('refuses edits outside editable, ".." paths and bad arguments as tool errors the model reads, and goes on', async () => {
    const dir = projectDir({ 'train.mjs': TRAINER, 'data/x.txt': 'data' });
    const proposer = await agent([
      {
        toolCalls: [
          call('edit_file', { path: 'data/x.txt', old_text: 'data', new_text: 'poisoned' }),
          call('read_file', { path: '../../etc/passwd' }),
          call('write_file', { path: '/tmp/evil.mjs', content: 'x' }),
          call('read_file', { nope: 1 }),
          call('no_such_tool', {}),
        ],
      },
      { text: 'I think I should lower x.' },
      { toolCalls: [finish('nothing yet')] },
      { toolCalls: [call('write_file', { path: 'train.mjs', content: TRAINER.replace('3', '2') }), finish('x = 2')] },
    ]);
    const proposal = await proposer.propose(proposalContext(dir));
    expect(proposal.description).toBe('x = 2');
    expect(readFileSync(join(dir, 'data/x.txt'), 'utf8')).toBe('data');
    const errors = toolResults(1).join('\n');
    expect(errors).toContain('data/x.txt: not editable; this study may change only train.mjs');
    expect(errors).toContain('is refused; every path stays inside the project folder');
    expect(errors).toContain('absolute paths are refused');
    expect(errors).toMatch(/Invalid input for tool read_file/);
    expect(errors).toMatch(/unavailable tool 'no_such_tool'/);
    expect(server!.requests[2]!.lastUserText).toContain('Use the tools to make your change'); // a text-only reply is nudged
    expect(toolResults(3).at(-1)).toContain('You have not changed any file yet'); // finish before any edit is refused
  });

  it('forces finish on the last step and fails the proposal when the model never finishes', async () => {
    const dir = projectDir({ 'train.mjs': TRAINER });
    const proposer = await agent(() => ({ toolCalls: [call('list_files', {})] }), { maxSteps: 3 });
    await expect(proposer.propose(proposalContext(dir))).rejects.toThrow(/did not call finish within 3 model calls; raise research.agent_max_steps/);
    expect(server!.requests).toHaveLength(3);
    expect(server!.requests[2]!.body.tool_choice).toEqual({ type: 'function', function: { name: 'finish' } });
    expect(server!.requests[1]!.body.tool_choice).toBe('auto');
  });

  it('lets a malformed reply fail the proposal with a call error (the loop records it and goes on)', async () => {
    const dir = projectDir({ 'train.mjs': TRAINER });
    const proposer = await agent([{ body: '{"choices": [{"message": ' }]);
    await expect(proposer.propose(proposalContext(dir))).rejects.toBeInstanceOf(LlmCallError);
  });

  it('gives up at agent_timeout with a message naming the setting', async () => {
    const dir = projectDir({ 'train.mjs': TRAINER });
    const proposer = await agent([{ text: 'slow', delayMs: 5000 }], { timeoutMs: 300 });
    const started = Date.now();
    await expect(proposer.propose(proposalContext(dir))).rejects.toThrow(/research.agent_timeout \(0s\)/);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('fails clearly when the prompt cannot fit prompt_tokens', async () => {
    const proposer = await agent([], { promptTokens: 2000, editFormat: 'search-replace' });
    const big = projectDir({ 'train.mjs': `${TRAINER}${'// padding\n'.repeat(2000)}` });
    await expect(proposer.propose(proposalContext(big))).rejects.toThrow(/raise prompt_tokens, or use edit_format: tools/);
  });
});

describe('the agent without tools', () => {
  it('search-replace: a SEARCH that does not match is sent back, and the corrected reply applies', async () => {
    const dir = projectDir({ 'train.mjs': TRAINER });
    const proposer = await agent(
      [
        { text: 'DESCRIPTION: lower x\ntrain.mjs\n<<<<<<< SEARCH\nconst x = 4;\n=======\nconst x = 2;\n>>>>>>> REPLACE\n' },
        { text: 'DESCRIPTION: lower x to 2\nHYPOTHESIS: closer to 1\n\ntrain.mjs\n<<<<<<< SEARCH\nconst x = 3;\n=======\nconst x = 2;\n>>>>>>> REPLACE\n' },
      ],
      { editFormat: 'search-replace' },
    );
    const proposal = await proposer.propose(proposalContext(dir));
    expect(proposal).toMatchObject({ description: 'lower x to 2', meta: { hypothesis: 'closer to 1', calls: 2, editFormat: 'search-replace' } });
    expect(readFileSync(join(dir, 'train.mjs'), 'utf8')).toContain('const x = 2;');
    expect(server!.requests[0]!.tools).toEqual([]);
    expect(server!.requests[0]!.system).toContain('<<<<<<< SEARCH');
    expect(server!.requests[0]!.lastUserText).toContain(`train.mjs\n\`\`\`\n${TRAINER}\`\`\``); // the file, verbatim
    expect(server!.requests[1]!.lastUserText).toMatch(/could not be applied, so nothing was changed: block 1 \(train.mjs\): the SEARCH lines do not match/);
  });

  it('search-replace: fails the proposal after the bounded retries, changing nothing', async () => {
    const dir = projectDir({ 'train.mjs': TRAINER });
    const proposer = await agent(() => ({ text: 'Sure! Here is my idea: make x smaller.' }), { editFormat: 'search-replace' });
    await expect(proposer.propose(proposalContext(dir))).rejects.toThrow(/could not be applied after 3 tries: no SEARCH\/REPLACE block found/);
    expect(server!.requests).toHaveLength(3);
    expect(readFileSync(join(dir, 'train.mjs'), 'utf8')).toBe(TRAINER);
  });

  it('whole-file: takes the fenced file as the new content', async () => {
    const dir = projectDir({ 'train.mjs': TRAINER });
    const proposer = await agent([{ text: `DESCRIPTION: x = 1.5\n\ntrain.mjs\n\`\`\`js\n${TRAINER.replace('3', '1.5')}\`\`\`\n` }], { editFormat: 'whole-file' });
    expect((await proposer.propose(proposalContext(dir))).description).toBe('x = 1.5');
    expect(readFileSync(join(dir, 'train.mjs'), 'utf8')).toBe(TRAINER.replace('3', '1.5'));
  });
});

describe('crash repair', () => {
  const crashed = summary(4, 'crash', {
    description: 'use a learned x',
    reason: 'exit code 1',
    diff: '-const x = 1;\n+const x = missingValue;',
    logTail: 'file:///w/train.mjs:1\nReferenceError: missingValue is not defined\n    at file:///w/train.mjs:1:11',
  });

  it('asks for the crashed candidate as the next base, and briefs the fix with its diff and log tail', async () => {
    const dir = projectDir({ 'train.mjs': TRAINER.replace('3', 'missingValue') });
    const proposer = await agent([{ toolCalls: [call('edit_file', { path: 'train.mjs', old_text: 'missingValue', new_text: '1.25' }), finish('define x')] }]);
    expect(proposer.repairTarget([summary(0, 'keep', { candidateCommit: 'base' }), crashed])).toEqual({ from: crashed, relatedTrialId: crashed.id });
    const proposal = await proposer.propose(proposalContext(dir, { repairOf: crashed, history: [crashed] }));
    expect(proposal.description).toBe('fix #4: define x');
    expect(proposal.meta).toMatchObject({ repairOf: 4 });
    const prompt = server!.requests[0]!.lastUserText;
    expect(prompt).toContain('fix the crash of trial #4');
    expect(prompt).toContain('ReferenceError: missingValue is not defined');
    expect(prompt).toContain('+const x = missingValue;');
  });

  it('lets the agent give up on a repair by finishing without an edit', async () => {
    const dir = projectDir({ 'train.mjs': TRAINER });
    const proposer = await agent([{ toolCalls: [finish('fix: the idea needs a value that does not exist; giving up')] }]);
    const proposal = await proposer.propose(proposalContext(dir, { repairOf: crashed, history: [crashed] }));
    expect(proposal.meta).toMatchObject({ changed: [] });
    expect(readFileSync(join(dir, 'train.mjs'), 'utf8')).toBe(TRAINER);
  });
});
