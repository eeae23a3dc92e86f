import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Proposal, ProposalContext, Proposer } from '../../core/proposer.ts';
import { paramsKey, type Observation, type ParamValues } from '../../core/search-space.ts';
import { AutoSampler } from './auto-sampler.ts';
import { GpSampler } from './gp/gp-sampler.ts';
import { RandomSampler } from './random-sampler.ts';
import type { Sampler, SamplerName } from './sampler.ts';
import { studyObservations } from './study-observations.ts';
import { TpeSampler } from './tpe-sampler.ts';

/** The file the search proposer writes into the project folder of each candidate. */
export const PARAMS_FILE = 'strata.params.json';

/** How the search proposer is set up (the `research.search` config, normalized). */
export interface SearchProposerOptions {
  sampler: SamplerName;
  /** Random (tpe) or space-filling (gp) proposals before modelling; each sampler's default when unset. */
  startupTrials?: number;
  /** TPE only: one joint estimator per group of parameters (default true) or one per parameter (Optuna's default). */
  multivariate?: boolean;
  /**
   * Finished observations of an earlier study or an imported results.tsv
   * (see warm-start.ts), in loss form (minimized), oldest first: the model
   * starts from them as if they were this study's first trials.
   */
  warmStart?: readonly Observation[];
}

/**
 * Tunes the declared `research.params` with a sampler (`auto` by default: a
 * Gaussian process, or multivariate TPE for conditional spaces and long
 * studies). Each proposal writes `strata.params.json` with the active
 * parameters only, so the candidate is a git commit like any other; the loop
 * also passes the values as `STRATA_PARAM_<NAME>`.
 *
 * The sampler sees one observation per candidate commit, the mean of every
 * run of it that measured a metric (baseline repeats, confirmation reruns),
 * and the proposals still running on other slots as pending points. The
 * sampler that made a proposal is recorded in its description and in
 * `meta.sampler`.
 *
 * @example
 * const proposer = new SearchProposer({ sampler: 'auto' });
 */
export class SearchProposer implements Proposer {
  readonly name: string;
  private readonly sampler: Sampler;
  private readonly warmStart: readonly Observation[];

  constructor(options: SearchProposerOptions) {
    this.sampler = createSampler(options);
    this.name = `search/${this.sampler.name}`;
    this.warmStart = options.warmStart ?? [];
  }

  async propose(context: ProposalContext): Promise<Proposal> {
    const { observations, pending, avoid } = studyObservations(context.history, context.inFlight, context.goal);
    const result = this.sampler.sample({
      space: context.config.params,
      history: [...this.warmStart, ...observations],
      pending,
      rng: context.rng,
      avoid,
    });
    const params = sortKeys(result.params);
    await writeFile(join(context.projectDir, PARAMS_FILE), `${JSON.stringify(params, null, 2)}\n`);
    const by = result.startup ? `${result.sampler}, ${result.sampler === 'gp' ? 'space-filling' : 'random'} start` : result.sampler;
    return {
      description: `${describe(params)} (${by})`,
      params,
      meta: {
        sampler: result.sampler,
        startup: result.startup,
        paramsKey: paramsKey(params),
        ...(this.warmStart.length > 0 ? { warmStartTrials: this.warmStart.length } : {}),
      },
    };
  }
}

/**
 * The sampler a `research.search` section names.
 *
 * @example
 * createSampler({ sampler: 'tpe', multivariate: false }); // Optuna's default TPE
 */
export function createSampler(options: SearchProposerOptions): Sampler {
  const startup = options.startupTrials;
  const tpe = { ...(startup !== undefined ? { nStartupTrials: startup } : {}), ...(options.multivariate !== undefined ? { multivariate: options.multivariate } : {}) };
  const gp = startup !== undefined ? { nStartupTrials: startup } : {};
  switch (options.sampler) {
    case 'random':
      return new RandomSampler();
    case 'tpe':
      return new TpeSampler(tpe);
    case 'gp':
      return new GpSampler(gp);
    case 'auto':
      return new AutoSampler({ gp, tpe });
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
