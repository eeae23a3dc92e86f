import { isConditional } from '../../core/search-space.ts';
import { GpSampler, type GpOptions } from './gp/gp-sampler.ts';
import { assertValidSearchSpace, type SampleRequest, type SampleResult, type Sampler } from './sampler.ts';
import { TpeSampler, type TpeOptions } from './tpe-sampler.ts';

/** Settings of the automatic choice. */
export interface AutoOptions {
  /** Finished trials up to which a Gaussian process models the study (200); beyond, multivariate TPE. */
  gpTrialLimit?: number;
  gp?: GpOptions;
  tpe?: TpeOptions;
}

/**
 * `sampler: auto`, the default: picks a sampler per proposal from the space
 * and the trials so far, and says which one it used.
 *
 * - A Gaussian process (GpSampler) for spaces without conditional
 *   parameters while the study has at most `gpTrialLimit` finished trials:
 *   it needs the fewest trials on smooth losses, which is what a
 *   hyperparameter budget of tens of trials calls for.
 * - Multivariate TPE for conditional spaces (one joint estimator per group
 *   of parameters that are active together) and for long studies, where a
 *   Gaussian process's cubic cost would exceed a proposal's time budget.
 *
 * @example
 * const { params, sampler } = new AutoSampler().sample({ space, history, rng }); // sampler: 'gp' or 'tpe'
 */
export class AutoSampler implements Sampler {
  readonly name = 'auto' as const;
  private readonly gp: GpSampler;
  private readonly tpe: TpeSampler;
  private readonly gpTrialLimit: number;

  constructor(options: AutoOptions = {}) {
    this.gp = new GpSampler(options.gp);
    this.tpe = new TpeSampler({ multivariate: true, ...options.tpe });
    this.gpTrialLimit = options.gpTrialLimit ?? 200;
  }

  /** The sampler `auto` uses for this request. */
  choose(request: Pick<SampleRequest, 'space' | 'history'>): Sampler {
    if (isConditional(request.space) || request.history.length > this.gpTrialLimit) return this.tpe;
    return this.gp;
  }

  sample(request: SampleRequest): SampleResult {
    assertValidSearchSpace(request.space);
    return this.choose(request).sample(request);
  }
}
