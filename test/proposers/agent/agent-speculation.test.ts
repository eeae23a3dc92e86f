/**
 * The default for an agent on one slot: speculative proposals. A real study
 * against a loopback model whose every edit improves the loss, so each trial
 * is kept and the proposal made beside it goes stale: it must be handed back
 * to the agent on the new best (never run on the old one), and the agent's
 * brief must say which trial was running while it proposed.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Ledger } from '../../../src/ledger/ledger.ts';
import { runResearch } from '../../../src/research/run-research.ts';
import { LoopbackModelServer, type LoopbackRequest, type LoopbackReply } from '../../helpers/loopback-model.ts';
import { config, gitIn, makeRepo } from '../../helpers/study-repo.ts';
import { agentStudyYaml } from './agent-fixtures.ts';

/** loss = (x − 1)² + 0.5, after a short sleep so the agent is asked while the trial runs. */
const SLOW_TRAINER = `const x = 3;
await new Promise((resolve) => setTimeout(resolve, 700));
console.log('METRIC loss=' + ((x - 1) ** 2 + 0.5));
`;

let server: LoopbackModelServer | undefined;
const ledgers: Ledger[] = [];
afterEach(async () => {
  for (const ledger of ledgers.splice(0)) ledger.close();
  await server?.close();
  server = undefined;
});

/** Reads train.mjs, then moves x a quarter of the way to 1 (every proposal improves on what it knows of). */
function improvingAgent(request: LoopbackRequest): LoopbackReply {
  if (request.tools.length === 0) return { text: 'OK' };
  const read = [...request.messages.filter((message) => message.role === 'tool').map((message) => message.content).join('\n').matchAll(/const x = (-?[\d.]+);/g)].at(-1);
  if (!read) return { toolCalls: [{ name: 'read_file', arguments: { path: 'train.mjs' } }] };
  // An agent that heeds the brief: with a trial running, it goes one step beyond what that trial tries.
  const brief = [request.system, ...request.messages.map((message) => message.content)].join('\n');
  const running = /Running now, results not known yet[^\n]*#\d+ x -?[\d.]+ -> (-?[\d.]+)/.exec(brief);
  const x = running ? Number(running[1]) : Number(read[1]);
  const next = 1 + (x - 1) * 0.75;
  return {
    toolCalls: [
      { name: 'edit_file', arguments: { path: 'train.mjs', old_text: `const x = ${read[1]};`, new_text: `const x = ${next};` } },
      { name: 'finish', arguments: { description: `x ${x} -> ${next}`, hypothesis: 'loss falls as x nears 1' } },
    ],
  };
}

describe('speculative proposals, the default for an agent on one slot', () => {
  it('proposes while a trial runs, tells the agent what runs, and hands a proposal made on a replaced best back instead of running it', async () => {
    server = await LoopbackModelServer.start(improvingAgent);
    const yaml = agentStudyYaml({ llm: `  model: openai-compatible:loop\n  base_url: ${server.url}\n`, maxTrials: 4, speculate: true });
    const repo = makeRepo({ 'train.mjs': SLOW_TRAINER, 'data/x.txt': 'data', 'strata.yaml': yaml });
    const summary = await runResearch({ configPath: join(repo, 'strata.yaml'), config: config(yaml) });
    expect(summary.study.state, summary.study.stop_reason ?? '').toBe('done');

    const ledger = Ledger.open(join(repo, '.strata', 'ledger.db'));
    ledgers.push(ledger);
    const trials = ledger.trials(1);
    // The session speculated (nothing in the config asked for it).
    const sessions = ledger.eventLog.ofTypes(1, ['study.session_started']);
    expect(sessions.map((event) => (event.payload as { speculate?: boolean }).speculate)).toEqual([true]);
    // Some proposal was asked for while a trial ran, and its brief named that trial.
    const briefs = server.requests.map((request) => [request.system, ...request.messages.map((message) => message.content)].join('\n'));
    expect(briefs.some((brief) => /Running now, results not known yet .*: #\d+ /.test(brief))).toBe(true);
    // Every trial is kept (each edit improves), so proposals made beside them went stale and were sent back, not run.
    const stale = ledger.eventLog.ofTypes(1, ['trial.speculation_stale']);
    expect(stale.length).toBeGreaterThanOrEqual(1);
    const kept = trials.filter((trial) => trial.status === 'keep');
    expect(kept.length).toBe(4);
    // No candidate ran on a best that had been replaced: each kept one was built on the previous keep.
    for (const [index, trial] of kept.entries()) if (index > 0) expect(trial.parentCommit).toBe(kept[index - 1]!.keptCommit);
    expect(trials.filter((trial) => trial.status === 'queued' || trial.status === 'running')).toEqual([]);
    expect(gitIn(repo, 'rev-parse', 'refs/heads/strata/agent-study')).toBe(kept.at(-1)!.keptCommit);
  }, 90_000);
});
