import { readFileSync } from 'node:fs';
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { statusCommand } from '../../../src/cli/commands/status.ts';
import { Ledger } from '../../../src/ledger/ledger.ts';
import { runResearch } from '../../../src/research/run-research.ts';
import { sqlRows } from '../../helpers/ledger-sql.ts';
import { LoopbackModelServer, type LoopbackReply, type LoopbackScript } from '../../helpers/loopback-model.ts';
import { config, gitIn, makeRepo } from '../../helpers/study-repo.ts';
import { agentStudyYaml, TRAINER } from './agent-fixtures.ts';

let server: LoopbackModelServer | undefined;
const ledgers: Ledger[] = [];
afterEach(async () => {
  for (const ledger of ledgers.splice(0)) ledger.close();
  await server?.close();
  server = undefined;
});

const call = (name: string, args: unknown) => ({ name, arguments: args });
const edit = (from: string, to: string) => call('edit_file', { path: 'train.mjs', old_text: `const x = ${from};`, new_text: `const x = ${to};` });
const finish = (description: string) => call('finish', { description, hypothesis: 'loss is (x-1)^2 + 0.5' });

/** A repository with the trainer, protected data, and a committed symlink that points outside it. */
function studyRepo(yaml: string): string {
  const outside = mkdtempSync(join(tmpdir(), 'strata-outside-'));
  writeFileSync(join(outside, 'secret.txt'), 'secret');
  const repo = makeRepo({ 'train.mjs': TRAINER, 'data/x.txt': 'data', 'strata.yaml': yaml });
  symlinkSync(join(outside, 'secret.txt'), join(repo, 'escape.txt'));
  gitIn(repo, 'add', 'escape.txt');
  gitIn(repo, 'commit', '-q', '-m', 'a link out');
  return repo;
}

async function start(script: LoopbackScript, llmExtra = '', options: { maxTrials?: number; extra?: string } = {}) {
  server = await LoopbackModelServer.start(script);
  const yaml = agentStudyYaml({
    llm: `  model: openai-compatible:loop\n  base_url: ${server.url}\n  max_retries: 2\n${llmExtra}`,
    ...(options.maxTrials !== undefined ? { maxTrials: options.maxTrials } : {}),
    ...(options.extra !== undefined ? { extra: options.extra } : {}),
  });
  const repo = studyRepo(yaml);
  const summary = await runResearch({ configPath: join(repo, 'strata.yaml'), config: config(yaml) });
  const ledger = Ledger.open(join(repo, '.strata', 'ledger.db'));
  ledgers.push(ledger);
  return { repo, summary, ledger };
}

describe('a study with proposer: agent against a loopback model', () => {
  it('runs unattended: improving edits, a malformed reply, a 429, refused paths, a crash and its repair', async () => {
    const script: LoopbackReply[] = [
      { text: 'OK' }, // the check call before any trial
      // trial 1: look, edit, finish → keep
      { toolCalls: [call('list_files', {})] },
      { toolCalls: [call('read_file', { path: 'train.mjs' })] },
      { toolCalls: [edit('3', '2'), finish('move x toward the optimum')] },
      // trial 2: a reply that is not JSON → the proposal fails, the loop goes on
      { body: '{"choices": [ {"message": ' },
      // trial 3: rate limited once, then refused paths, then a better edit → keep
      { status: 429, headers: { 'retry-after': '0.05' } },
      {
        toolCalls: [
          call('write_file', { path: 'data/x.txt', content: 'easier data' }),
          call('read_file', { path: '../strata.yaml' }),
          call('read_file', { path: 'escape.txt' }),
          call('write_file', { path: 'escape.txt', content: 'overwrite through the link' }),
        ],
      },
      { toolCalls: [edit('2', '1'), finish('x at the optimum')] },
      // trial 4: a change that crashes with a stack trace
      { toolCalls: [edit('1', 'learnedX'), finish('learn x instead of fixing it')] },
      // trial 5: the repair, from the crashed candidate
      { toolCalls: [call('edit_file', { path: 'train.mjs', old_text: 'const x = learnedX;', new_text: 'const x = 1.5;' }), finish('define the learned x')] },
    ];
    const { repo, summary, ledger } = await start(script, '  prices: {input_per_mtok: 1, output_per_mtok: 2}\n');

    expect(server!.remaining).toBe(0);
    expect(summary.study.state).toBe('done');
    expect(summary.trials.map((t) => [t.seq, t.status, t.metric])).toEqual([
      [0, 'keep', 4.5],
      [1, 'keep', 1.5],
      [2, 'invalid', null],
      [3, 'keep', 0.5],
      [4, 'crash', null],
      [5, 'discard', 0.75],
    ]);
    const trials = ledger.trials(1);
    expect(trials[2]!.statusReason).toMatch(/^proposal failed: .*could not be read/);
    expect(trials[1]!.meta).toMatchObject({ hypothesis: 'loss is (x-1)^2 + 0.5', model: 'openai-compatible:loop', calls: 3 });
    // the repair started from the crashed candidate and is linked to it
    expect(trials[5]!.parentCommit).toBe(trials[4]!.candidateCommit);
    expect(trials[5]!.relatedTrialId).toBe(trials[4]!.id);
    expect(trials[5]!.description).toBe('fix #4: define the learned x');
    expect(trials[5]!.diff).toContain('-const x = learnedX;');
    const repairPrompt = server!.requests[9]!.lastUserText;
    expect(repairPrompt).toContain('fix the crash of trial #4');
    expect(repairPrompt).toMatch(/ReferenceError: learnedX is not defined/);

    // refused paths came back to the model as tool errors; nothing outside editable changed
    const refusals = server!.requests[7]!.messages.filter((m) => m.role === 'tool').map((m) => m.content).join('\n');
    expect(refusals).toContain('data/x.txt: not editable');
    expect(refusals).toContain('is refused; every path stays inside the project folder');
    expect(refusals).toContain('escape.txt: resolves outside the project (a symlink); refused');
    expect(gitIn(repo, 'show', 'strata/agent-study:data/x.txt')).toBe('data');
    expect(gitIn(repo, 'show', 'strata/agent-study:train.mjs')).toContain('const x = 1;');

    // every model call is in the ledger against the trial it proposed, with tokens and USD
    const calls = sqlRows(ledger, 'SELECT trial_id, role, error, usd FROM llm_calls ORDER BY id');
    expect(calls).toHaveLength(script.length);
    expect(calls[0]).toMatchObject({ trial_id: null, role: 'check' });
    expect(calls.filter((c) => c.trial_id === trials[1]!.id)).toHaveLength(3);
    expect(calls.filter((c) => c.trial_id === trials[3]!.id).map((c) => String(c.error).slice(0, 10))).toEqual(['rate_limit', 'null', 'null']);
    expect(summary.spend_usd).toBeGreaterThan(0);

    const out = new PassThrough();
    let printed = '';
    out.on('data', (chunk: Buffer) => (printed += chunk.toString()));
    await statusCommand({ config: join(repo, 'strata.yaml'), cwd: repo, out });
    expect(printed).toMatch(/LLM spend \$0\.\d\d/);
  });

  it('stops the study before a call that would cross llm.max_usd', async () => {
    let n = 0;
    const script: LoopbackScript = (request) => {
      if (request.tools.length === 0) return { text: 'OK', usage: { input: 10, output: 1 } };
      n++;
      return { toolCalls: [call('write_file', { path: 'train.mjs', content: TRAINER.replace('3', String(3 - n / 100)) }), finish(`x = ${3 - n / 100}`)], usage: { input: 1000, output: 200 } };
    };
    // $1000 per million tokens: each call reserves about $7 (a generous input estimate plus its 4096-token output cap) and costs $1.2.
    const { repo, summary, ledger } = await start(script, '  max_usd: 25\n  prices: {input_per_mtok: 1000, output_per_mtok: 1000}\n', { maxTrials: 50 });

    expect(summary.study.state).toBe('done');
    expect(summary.study.stop_reason).toMatch(/^USD budget reached: the next agent call could cost up to \$\d+\.\d+.*raise the cap \(llm.max_usd/);
    expect(summary.spend_usd).toBeLessThanOrEqual(25);
    const rows = sqlRows(ledger, 'SELECT usd, reserved_usd FROM llm_calls ORDER BY id');
    expect(rows).toHaveLength(server!.requests.length); // nothing was sent that the ledger does not know
    // it stopped because the next reservation did not fit, not before
    expect(summary.spend_usd).toBeGreaterThan(25 - 1.5 * Number(rows.at(-1)!.reserved_usd));
    const last = ledger.trials(1).at(-1)!;
    expect(last.status).toBe('invalid');
    expect(last.statusReason).toMatch(/^proposal failed: USD budget reached/);
    expect(summary.trials.filter((t) => t.status === 'keep').length).toBeGreaterThan(1);

    // resuming with the cap spent ends the study as done again, after at most the cheap check call and without running a trial, not as a failure
    const callsBefore = server!.requests.length;
    const trialsBefore = ledger.trials(1).length;
    const again = await runResearch({ configPath: join(repo, 'strata.yaml'), config: config(readFileSync(join(repo, 'strata.yaml'), 'utf8')) });
    expect(again.study).toMatchObject({ state: 'done', stop_reason: expect.stringMatching(/USD budget/) });
    expect(server!.requests.length).toBeLessThanOrEqual(callsBefore + 1);
    // nothing ran: at most one proposal that failed on the cap
    expect(ledger.trials(1).slice(trialsBefore).every((t) => t.status === 'invalid' && /USD budget/.test(t.statusReason ?? ''))).toBe(true);
    expect(ledger.trials(1).length).toBeLessThanOrEqual(trialsBefore + 1);
  });

  it('pauses the study when the model stays unavailable after its retries, instead of burning trials', async () => {
    const script: LoopbackScript = (request) => (request.tools.length === 0 ? { text: 'OK' } : { status: 503, error: 'overloaded' });
    const { summary } = await start(script, '', { maxTrials: 10 });
    expect(summary.study.state).toBe('paused');
    expect(summary.study.stop_reason).toMatch(/is unavailable after 3 attempts: server: .*resume it when the provider recovers/);
    expect(summary.trials.map((t) => t.status)).toEqual(['keep', 'invalid']);
  });

  it('fails before any trial when the endpoint does not know the model, naming what to check', async () => {
    server = await LoopbackModelServer.start([{ status: 404, error: 'model "loop" not found' }]);
    const yaml = agentStudyYaml({ llm: `  model: openai-compatible:loop\n  base_url: ${server.url}\n` });
    const repo = studyRepo(yaml);
    await expect(runResearch({ configPath: join(repo, 'strata.yaml'), config: config(yaml) })).rejects.toThrow(
      /does not know this model \(HTTP 404\); check the model id and base_url/,
    );
    const ledger = Ledger.open(join(repo, '.strata', 'ledger.db'));
    ledgers.push(ledger);
    expect(ledger.trials(1)).toEqual([]);
    expect(server.requests).toHaveLength(1);
  });

  it('fails before any call when the key variable is missing, naming it', async () => {
    const yaml = agentStudyYaml({ llm: '  model: openai:gpt-4.1-mini\n  api_key_env: STRATA_TEST_MISSING_KEY\n' });
    const repo = studyRepo(yaml);
    await expect(runResearch({ configPath: join(repo, 'strata.yaml'), config: config(yaml) })).rejects.toThrow(/set STRATA_TEST_MISSING_KEY in the environment/);
  });
});
