import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/core/config/parse-config.ts';
import { ConfigError, ProposalError } from '../../../src/core/errors.ts';
import { Ledger } from '../../../src/ledger/ledger.ts';
import { CommandProposer } from '../../../src/proposers/command/command-proposer.ts';
import { runResearch } from '../../../src/research/run-research.ts';
import { config, gitIn, makeRepo } from '../../helpers/study-repo.ts';
import { projectDir, proposalContext, summary, TRAINER } from '../agent/agent-fixtures.ts';

const FAKE_AGENTS = resolve(import.meta.dirname, '../../fixtures/fake-agent');
const CLAUDE = 'claude -p --permission-mode acceptEdits';

function commandYaml(options: { command?: string; timeout?: string; maxTrials?: number } = {}): string {
  return `name: command-study
research:
  editable: [train.mjs]
  protected: [data/**]
  run: ${JSON.stringify(`${process.execPath} train.mjs`)}
  budget: 10s
  metric: {name: loss, goal: minimize}
  proposer: command
  agent_command: ${JSON.stringify(options.command ?? CLAUDE)}
  agent_timeout: ${options.timeout ?? '20s'}
  max_trials: ${options.maxTrials ?? 6}
  # The serial loop: this test scripts the order of proposals (speculation has its own tests).
  executor: {speculate: false}
  acceptance: {rule: strict}
  # The fake agent keeps its call count and prompts here, under /tmp, which its sandbox makes private otherwise.
  agent_sandbox: {writable: [${JSON.stringify(state)}]}
`;
}

let state: string;
const saved = { PATH: process.env.PATH, FAKE_CLAUDE_STATE: process.env.FAKE_CLAUDE_STATE, FAKE_CLAUDE_SCRIPT: process.env.FAKE_CLAUDE_SCRIPT };
const ledgers: Ledger[] = [];
beforeEach(() => {
  state = mkdtempSync(join(tmpdir(), 'strata-fake-claude-'));
  process.env.PATH = `${FAKE_AGENTS}${delimiter}${saved.PATH ?? ''}`;
  process.env.FAKE_CLAUDE_STATE = state;
});
afterEach(() => {
  for (const ledger of ledgers.splice(0)) ledger.close();
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

/** A proposer over a fresh project, the fake claude doing `steps` in order. */
async function proposer(steps: string, yaml: { command?: string; timeout?: string } = {}) {
  process.env.FAKE_CLAUDE_SCRIPT = steps;
  const research = parseConfig(commandYaml(yaml)).research!;
  const transcriptsDir = join(state, 'transcripts');
  const dir = projectDir({ 'train.mjs': TRAINER, 'data/x.txt': 'data' });
  return { dir, transcriptsDir, proposer: await CommandProposer.open({ research, configDir: dir, transcriptsDir }), context: proposalContext(dir, { config: research }) };
}

describe('the command proposer with a fake claude', () => {
  it('sends the brief on stdin and in STRATA_PROMPT_FILE, lets the agent edit in place, and takes its DESCRIPTION line', async () => {
    const { dir, transcriptsDir, proposer: command, context } = await proposer('improve');
    const proposal = await command.propose(context);
    expect(proposal.description).toBe('lower x to 2');
    expect(proposal.meta).toMatchObject({ agentCommand: CLAUDE, transcript: join(transcriptsDir, '3-agent.log') });
    expect(readFileSync(join(dir, 'train.mjs'), 'utf8')).toContain('const x = 2;');
    const sent = readFileSync(join(state, 'prompt-1.md'), 'utf8');
    expect(sent).toBe(readFileSync(join(transcriptsDir, '3-prompt.md'), 'utf8'));
    expect(sent).toContain('Edit the editable files directly');
    expect(sent).toContain('# Research program');
    expect(sent).toContain('Editable files: train.mjs');
    expect(readFileSync(join(transcriptsDir, '3-agent.log'), 'utf8')).toContain('Reading train.mjs ...');
  });

  it('prefers the description file the agent wrote', async () => {
    const { proposer: command, context } = await proposer('descfile');
    expect((await command.propose(context)).description).toBe('lower x, said in the description file');
  });

  it('kills an agent that runs past agent_timeout, and fails the proposal naming the setting', async () => {
    const { proposer: command, context } = await proposer('hang', { timeout: '1s' });
    const started = Date.now();
    await expect(command.propose(context)).rejects.toThrow(/ran past research.agent_timeout \(1s\) and was killed/);
    expect(Date.now() - started).toBeLessThan(8000);
  });

  it('fails the proposal with the last output when the agent exits non-zero', async () => {
    const { proposer: command, context } = await proposer('fail');
    const error = await command.propose(context).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProposalError);
    expect((error as Error).message).toMatch(/agent_command exited with 3; last output:\n[\s\S]*API Error: 529 overloaded/);
  });

  it('briefs a repair with the crash, and asks for one like the agent proposer', async () => {
    const { proposer: command, context } = await proposer('fix');
    const crashed = summary(4, 'crash', { logTail: 'ReferenceError: learnedX is not defined\n    at file:///w/train.mjs:1:11', diff: '+const x = learnedX;' });
    expect(command.repairTarget([crashed])).toEqual({ from: crashed, relatedTrialId: crashed.id });
    expect((await command.propose({ ...context, repairOf: crashed })).description).toBe('fix #4: define the learned x');
  });

  it('refuses to start when the program is not on PATH, naming the setting', async () => {
    const research = parseConfig(commandYaml({ command: 'no-such-agent-cli --go' })).research!;
    const error = await CommandProposer.open({ research, configDir: state, transcriptsDir: state }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/research.agent_command: "no-such-agent-cli" was not found on PATH/);
  });
});

describe('a study with proposer: command', () => {
  it('runs the loop on what the agent changed: improvements kept, edits outside editable invalid, a crash repaired', async () => {
    process.env.FAKE_CLAUDE_SCRIPT = 'improve,outside,crash,fix,descfile';
    const yaml = commandYaml();
    const repo = makeRepo({ 'train.mjs': TRAINER, 'data/x.txt': 'data', 'strata.yaml': yaml });
    const summaryOut = await runResearch({ configPath: join(repo, 'strata.yaml'), config: config(yaml) });
    expect(summaryOut.study.state).toBe('done');
    expect(summaryOut.trials.map((t) => [t.seq, t.status, t.metric, t.proposer])).toEqual([
      [0, 'keep', 4.5, 'baseline'],
      [1, 'keep', 1.5, 'command'],
      [2, 'invalid', null, 'command'],
      [3, 'crash', null, 'command'],
      [4, 'keep', 0.5, 'command'],
      [5, 'discard', 1.5, 'command'],
    ]);
    expect(summaryOut.trials[2]!.reason).toBe('changed files outside research.editable: data/x.txt');
    expect(summaryOut.trials[4]!.description).toBe('fix #3: define the learned x');
    expect(summaryOut.trials[5]!.description).toBe('lower x, said in the description file');
    const ledger = Ledger.open(join(repo, '.strata', 'ledger.db'));
    ledgers.push(ledger);
    const trials = ledger.trials(1);
    expect(trials[4]!.relatedTrialId).toBe(trials[3]!.id);
    expect(trials[4]!.parentCommit).toBe(trials[3]!.candidateCommit);
    expect(gitIn(repo, 'show', 'strata/command-study:train.mjs')).toContain('const x = 1;');
    expect(gitIn(repo, 'show', 'strata/command-study:data/x.txt')).toBe('data');
    expect(summaryOut.spend_usd).toBe(0);
  });
});
