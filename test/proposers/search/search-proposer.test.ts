import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/core/config/parse-config.ts';
import type { ProposalContext, TrialSummary } from '../../../src/core/proposer.ts';
import { Random } from '../../../src/core/random.ts';
import { PARAMS_FILE, SearchProposer } from '../../../src/proposers/search/search-proposer.ts';
import { studyObservations } from '../../../src/proposers/search/study-observations.ts';

let nextId = 1;
function trial(overrides: Partial<TrialSummary>): TrialSummary {
  const id = nextId++;
  return {
    id,
    seq: id,
    status: 'discard',
    description: '',
    metric: null,
    delta: null,
    params: null,
    paramsKey: null,
    diff: null,
    logTail: null,
    parentCommit: 'base',
    candidateCommit: `c${id}`,
    reason: null,
    cause: null,
    relatedTrialId: null,
    ...overrides,
    ...(overrides.params ? { paramsKey: overrides.paramsKey ?? JSON.stringify(overrides.params) } : {}),
  };
}

describe('studyObservations', () => {
  it('gives the sampler one observation per candidate: the mean of the runs that measured a metric', () => {
    const a = { x: 1 };
    const history = [
      trial({ status: 'keep', metric: 5, params: null, candidateCommit: 'base' }),
      trial({ status: 'keep', metric: 2, params: a, candidateCommit: 'ca' }),
      trial({ status: 'discard', metric: 3, params: a, candidateCommit: 'ca' }),
      trial({ status: 'interrupted', metric: null, params: a, candidateCommit: 'ca' }),
      trial({ status: 'crash', metric: null, params: { x: 2 }, candidateCommit: 'cb' }),
      trial({ status: 'invalid', metric: 0.1, params: { x: 3 }, candidateCommit: 'cc' }),
      trial({ status: 'interrupted', metric: null, params: { x: 4 }, candidateCommit: 'cd' }),
      trial({ status: 'discard', metric: 7, params: { x: 5 }, candidateCommit: null }),
    ];
    const inFlight = [
      trial({ status: 'running', params: a, candidateCommit: 'ca' }),
      trial({ status: 'running', params: { x: 6 }, candidateCommit: 'ce' }),
      trial({ status: 'queued', params: { x: 6 }, candidateCommit: 'ce' }),
    ];
    const { observations, pending, avoid } = studyObservations(history, inFlight, 'minimize');
    expect(observations).toEqual([
      { params: a, loss: 2.5 },
      { params: { x: 2 }, loss: null },
      { params: { x: 3 }, loss: null },
      { params: { x: 5 }, loss: 7 },
    ]);
    // A rerun of a finished candidate is not a new pending point; one pending point per candidate.
    expect(pending).toEqual([{ x: 6 }]);
    expect([...avoid].sort()).toEqual(['{"x":1}', '{"x":2}', '{"x":3}', '{"x":4}', '{"x":5}', '{"x":6}']);
    expect(studyObservations(history, [], 'maximize').observations[0]).toEqual({ params: a, loss: -2.5 });
  });
});

function context(projectDir: string, history: TrialSummary[], configText: string): ProposalContext {
  const research = parseConfig(configText).research!;
  return {
    seq: history.length,
    trialId: 99,
    config: research,
    goal: research.metric.goal,
    history,
    best: undefined,
    inFlight: [],
    projectDir,
    rng: Random.fromSeed(5),
    signal: new AbortController().signal,
  };
}

const configText = `name: t
research:
  editable: [train.py]
  run: python train.py
  budget: 5m
  metric: {name: loss, goal: minimize}
  params:
    optimizer: {type: choice, values: [sgd, adam]}
    lr: {type: float, low: 0.0001, high: 1, log: true}
    momentum: {type: float, low: 0.5, high: 0.99, when: {optimizer: sgd}}
`;

describe('SearchProposer', () => {
  it('writes only the active parameters and says which sampler made the proposal', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-search-'));
    const proposer = new SearchProposer({ sampler: 'auto' });
    expect(proposer.name).toBe('search/auto');
    const history: TrialSummary[] = [];
    for (let i = 0; i < 14; i++) {
      const proposal = await proposer.propose(context(dir, history, configText));
      const written = JSON.parse(readFileSync(join(dir, PARAMS_FILE), 'utf8')) as Record<string, unknown>;
      expect(written).toEqual(proposal.params);
      expect('momentum' in written).toBe(written.optimizer === 'sgd');
      // Conditional space: auto picks multivariate TPE, random for its first 10 proposals.
      expect(proposal.meta).toMatchObject({ sampler: 'tpe', startup: i < 10 });
      expect(proposal.description).toMatch(i < 10 ? /^search: .* \(tpe, random start\)$/ : /^search: .* \(tpe\)$/);
      history.push(trial({ status: 'discard', metric: Math.abs(Math.log10(written.lr as number) + 2), params: proposal.params! }));
    }
  });

  it('models from the warm start at once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-search-'));
    const unconditional = configText.replace('    momentum: {type: float, low: 0.5, high: 0.99, when: {optimizer: sgd}}\n', '');
    // A smooth loss, so the Gaussian process sees structure (not noise) and models.
    const warmStart = Array.from({ length: 6 }, (_, i) => {
      const lr = 10 ** -(0.5 + (i * 3.3) / 5);
      const optimizer = i % 2 === 0 ? 'sgd' : 'adam';
      return { params: { optimizer, lr }, loss: (Math.log10(lr) + 2) ** 2 + (optimizer === 'sgd' ? 0.5 : 0) };
    });
    const proposal = await new SearchProposer({ sampler: 'auto', warmStart }).propose(context(dir, [], unconditional));
    expect(proposal.meta).toMatchObject({ sampler: 'gp', startup: false, warmStartTrials: 6 });
  });
});
