import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseConfig } from '../../../src/core/config/parse-config.ts';
import type { ProposalContext, TrialSummary } from '../../../src/core/proposer.ts';
import { Random } from '../../../src/core/random.ts';

/** A trainer whose loss is (x - 1)^2 + 0.5 for the `x` written in its code. */
export const TRAINER = `const x = 3;
console.log('training with x =', x);
console.log('METRIC loss=' + ((x - 1) ** 2 + 0.5));
`;

/** strata.yaml of an agent study on train.mjs; `llm` is the llm: section's body. */
export function agentStudyYaml(options: { llm: string; maxTrials?: number; extra?: string; name?: string; speculate?: boolean }): string {
  return `name: ${options.name ?? 'agent-study'}
research:
  editable: [train.mjs]
  protected: [data/**]
  run: ${JSON.stringify(`${process.execPath} train.mjs`)}
  budget: 10s
  metric: {name: loss, goal: minimize}
  proposer: agent
  max_trials: ${options.maxTrials ?? 5}
${options.speculate ? '' : '  # The serial loop: these tests script the order of proposals (agent-speculation.test.ts is the default\'s).\n  executor: {speculate: false}\n'}  acceptance: {rule: strict}
${options.extra ?? ''}llm:
${options.llm}
`;
}

/** A project folder (not a git repository) with the given files. */
export function projectDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'strata-agent-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

/** A proposal context for an agent study over `dir`. */
export function proposalContext(dir: string, overrides: Partial<ProposalContext> = {}, extraYaml = ''): ProposalContext {
  const config = parseConfig(agentStudyYaml({ llm: '  model: openai-compatible:loop\n  base_url: http://127.0.0.1:9/v1', extra: extraYaml })).research!;
  return {
    seq: 3,
    trialId: 3,
    config,
    goal: 'minimize',
    history: [],
    best: undefined,
    inFlight: [],
    projectDir: dir,
    rng: Random.fromSeed('agent-test'),
    signal: new AbortController().signal,
    ...overrides,
  };
}

/** A finished trial as the loop would summarize it. */
export function summary(seq: number, status: TrialSummary['status'], extra: Partial<TrialSummary> = {}): TrialSummary {
  return {
    id: seq + 1,
    seq,
    status,
    description: `trial ${seq}`,
    metric: null,
    delta: null,
    params: null,
    paramsKey: null,
    diff: null,
    logTail: null,
    parentCommit: 'base',
    candidateCommit: `c${seq}`,
    reason: null,
    cause: status === 'running' || status === 'queued' ? null : 'run',
    relatedTrialId: null,
    ...extra,
  };
}
