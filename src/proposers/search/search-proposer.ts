import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Proposal, ProposalContext, Proposer } from '../../core/proposer.ts';
import { paramsKey, type Observation, type ParamValues } from '../../core/search-space.ts';
import { RandomSampler } from './random-sampler.ts';
import type { Sampler } from './sampler.ts';
import { TpeSampler } from './tpe-sampler.ts';

/** The file the search proposer writes into the project folder of each candidate. */
export const PARAMS_FILE = 'strata.params.json';

/**
 * Tunes the declared `research.params` with random search or TPE. Each
 * proposal writes `strata.params.json`, so the candidate is a git commit
 * like any other; the loop also passes the values as `STRATA_PARAM_<NAME>`.
 *
 * @example
 * const proposer = new SearchProposer({ sampler: 'tpe', startupTrials: 10 });
 */
export class SearchProposer implements Proposer {
  readonly name: string;
  private readonly sampler: Sampler;

  constructor(options: { sampler: 'tpe' | 'random'; startupTrials?: number }) {
    this.sampler =
      options.sampler === 'random'
        ? new RandomSampler()
        : new TpeSampler(options.startupTrials !== undefined ? { nStartupTrials: options.startupTrials } : {});
    this.name = `search/${this.sampler.name}`;
  }

  async propose(context: ProposalContext): Promise<Proposal> {
    const sign = context.goal === 'minimize' ? 1 : -1;
    const observations: Observation[] = [];
    const avoid = new Set<string>();
    for (const trial of [...context.history, ...context.inFlight]) {
      if (trial.paramsKey) avoid.add(trial.paramsKey);
      if (!trial.params || trial.status === 'interrupted' || trial.status === 'running' || trial.status === 'queued') continue;
      const usable = trial.metric !== null && Number.isFinite(trial.metric) && trial.status !== 'invalid';
      observations.push({ params: trial.params, loss: usable ? sign * trial.metric! : null });
    }
    const params = this.sampler.sample(context.config.params, observations, context.rng, avoid);
    await writeFile(join(context.projectDir, PARAMS_FILE), `${JSON.stringify(sortKeys(params), null, 2)}\n`);
    return { description: describe(params), params, meta: { sampler: this.sampler.name, paramsKey: paramsKey(params) } };
  }
}

function sortKeys(params: ParamValues): ParamValues {
  return Object.fromEntries(Object.keys(params).sort().map((key) => [key, params[key]!]));
}

function describe(params: ParamValues): string {
  const parts = Object.keys(params)
    .sort()
    .map((key) => {
      const value = params[key]!;
      return `${key}=${typeof value === 'number' && !Number.isInteger(value) ? Number(value.toPrecision(3)) : value}`;
    });
  return `search: ${parts.join(' ')}`;
}
