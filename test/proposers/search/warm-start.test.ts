import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/core/errors.ts';
import type { SearchSpace } from '../../../src/core/search-space.ts';
import { Ledger } from '../../../src/ledger/ledger.ts';
import { loadWarmStart, type StudyTrialsReader } from '../../../src/proposers/search/warm-start.ts';
import { runResearch } from '../../../src/research/run-research.ts';
import { config, makeRepo, quadraticConfig, quadraticTrainer } from '../../helpers/study-repo.ts';

const space: SearchSpace = {
  optimizer: { type: 'choice', values: ['sgd', 'adam'] },
  lr: { type: 'float', low: 1e-4, high: 1, log: true },
  momentum: { type: 'float', low: 0.5, high: 0.99, when: { optimizer: 'sgd' } },
};

/** An in-memory stand-in for the two ledger reads warm start makes (the real Ledger is used end to end below). */
function reader(studies: Record<string, Array<{ status: 'keep' | 'discard' | 'crash' | 'interrupted'; metric: number | null; params: Record<string, unknown> | null; commit: string }>>): StudyTrialsReader {
  const names = Object.keys(studies);
  return {
    studyByName: (name) => (name in studies ? { id: names.indexOf(name) + 1, name } : undefined),
    studies: () => names.map((name) => ({ name })),
    trials: (id) => studies[names[id - 1]!]!.map((trial) => ({ status: trial.status, metric: trial.metric, params: trial.params, paramsKey: JSON.stringify(trial.params), candidateCommit: trial.commit })),
  };
}

async function issues(run: () => Promise<unknown>): Promise<string[]> {
  try {
    await run();
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((issue) => `${issue.path}: ${issue.message}`);
    throw error;
  }
  return [];
}

describe('loadWarmStart', () => {
  const ledger = reader({
    sweep: [
      { status: 'keep', metric: null, params: null, commit: 'base' },
      { status: 'keep', metric: 0.9, params: { optimizer: 'adam', lr: 0.01 }, commit: 'a' },
      { status: 'discard', metric: 1.3, params: { optimizer: 'sgd', lr: 0.1, momentum: 0.9 }, commit: 'b' },
      { status: 'discard', metric: 1.1, params: { optimizer: 'sgd', lr: 0.1, momentum: 0.9 }, commit: 'b' },
      { status: 'crash', metric: null, params: { optimizer: 'sgd', lr: 0.9, momentum: 0.6 }, commit: 'c' },
      { status: 'discard', metric: 2, params: { optimizer: 'adam', lr: 5 }, commit: 'd' },
      { status: 'interrupted', metric: null, params: { optimizer: 'adam', lr: 0.2 }, commit: 'e' },
    ],
    other: [{ status: 'keep', metric: 1, params: { width: 3 }, commit: 'x' }],
  });
  const base = { space, goal: 'minimize' as const, studyName: 'now', configDir: '/nowhere', ledger };

  it('reads an earlier study: one observation per candidate (the mean of its runs), crashes as crashes, out-of-range points left out', async () => {
    expect(await loadWarmStart({ ...base, source: 'sweep' })).toEqual([
      { params: { optimizer: 'adam', lr: 0.01 }, loss: 0.9 },
      { params: { optimizer: 'sgd', lr: 0.1, momentum: 0.9 }, loss: 1.2000000000000002 },
      { params: { optimizer: 'sgd', lr: 0.9, momentum: 0.6 }, loss: null },
    ]);
    expect(await loadWarmStart({ ...base, source: 'sweep', goal: 'maximize' })).toContainEqual({ params: { optimizer: 'adam', lr: 0.01 }, loss: -0.9 });
  });

  it('names the problem at research.search.warm_start', async () => {
    expect(await issues(() => loadWarmStart({ ...base, source: 'swep' }))).toEqual([
      'research.search.warm_start: no study named "swep" in this ledger; studies: sweep, other (a results.tsv needs a path ending in .tsv)',
    ]);
    expect(await issues(() => loadWarmStart({ ...base, source: 'now' }))).toEqual(['research.search.warm_start: now is this study; name an earlier one (or a results.tsv path)']);
    expect(await issues(() => loadWarmStart({ ...base, source: 'other' }))).toEqual([
      'research.search.warm_start: none of the 1 results of study other has values for the parameters lr, momentum, optimizer inside their ranges; warm start needs the same parameter names',
    ]);
  });

  it('reads an imported results.tsv with a column per parameter', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-warm-'));
    writeFileSync(
      join(dir, 'results.tsv'),
      [
        'commit\tval_loss\toptimizer\tlr\tmomentum\tstatus\tdescription',
        'a1b2c3d\t0.95\tadam\t0.003\t\tkeep\tbaseline',
        'b2c3d4e\t0.91\tsgd\t0.05\t0.9\tkeep\tsgd with momentum',
        'c3d4e5f\t0.000000\tsgd\t0.8\t0.5\tcrash\tdiverged',
        'd4e5f6a\t0.97\tlion\t0.001\t\tdiscard\tnot in the space',
      ].join('\n'),
    );
    expect(await loadWarmStart({ ...base, configDir: dir, source: 'results.tsv' })).toEqual([
      { params: { optimizer: 'adam', lr: 0.003 }, loss: 0.95 },
      { params: { optimizer: 'sgd', lr: 0.05, momentum: 0.9 }, loss: 0.91 },
      { params: { optimizer: 'sgd', lr: 0.8, momentum: 0.5 }, loss: null },
    ]);
    writeFileSync(join(dir, 'thin.tsv'), 'commit\tval_loss\tstatus\tdescription\na1b2c3d\t1\tkeep\tx\n');
    expect(await issues(() => loadWarmStart({ ...base, configDir: dir, source: 'thin.tsv' }))).toEqual([
      `research.search.warm_start: ${join(dir, 'thin.tsv')} has no column for optimizer, lr; its columns: commit, val_loss, status, description`,
    ]);
    expect(await issues(() => loadWarmStart({ ...base, configDir: dir, source: 'missing.tsv' }))).toEqual([
      `research.search.warm_start: ${join(dir, 'missing.tsv')} does not exist; give a results.tsv path relative to the config file, or an earlier study's name`,
    ]);
  });
});

describe('warm start in a study', () => {
  const opened: Ledger[] = [];
  afterEach(() => {
    for (const ledger of opened.splice(0)) ledger.close();
  });

  it('models from the earlier study’s trials on its first proposal', async () => {
    const repo = makeRepo({ 'train.mjs': quadraticTrainer(5), 'strata.yaml': quadraticConfig({ maxTrials: 6 }), 'data/x.txt': 'data' });
    await runResearch({ configPath: join(repo, 'strata.yaml'), config: config(quadraticConfig({ maxTrials: 6 })) });
    const second = quadraticConfig({ name: 'quad-again', maxTrials: 2 }).replace('search: {sampler: tpe, seed: 7, startup_trials: 3}', 'search: {sampler: gp, seed: 7, warm_start: quad}');
    await runResearch({ configPath: join(repo, 'strata.yaml'), config: config(second) });

    const ledger = Ledger.open(join(repo, '.strata', 'ledger.db'));
    opened.push(ledger);
    const earlier = ledger.trials(ledger.studyByName('quad')!.id).filter((trial) => trial.params !== null);
    const proposal = ledger.trials(ledger.studyByName('quad-again')!.id).find((trial) => trial.params !== null)!;
    // Five earlier candidates are more than the Gaussian process's start (4 for one parameter): it models at once.
    expect(earlier).toHaveLength(5);
    expect(proposal.meta).toMatchObject({ sampler: 'gp', startup: false, warmStartTrials: 5 });
    expect(proposal.description).toMatch(/^search: x=\S+ \(gp\)$/);
  });
});
