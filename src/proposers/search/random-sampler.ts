import { drawRandomParams } from './random-draw.ts';
import { assertValidSearchSpace, type SampleRequest, type SampleResult, type Sampler } from './sampler.ts';
import { proposeUnique } from './unique-proposal.ts';

/**
 * Independent draws from each dimension's prior (uniform; log-uniform for log
 * dimensions; integers inclusive of both ends). Ignores history and pending
 * proposals; honours `avoid`.
 *
 * @example
 * const { params } = new RandomSampler().sample({ space, history: [], rng: Random.fromSeed(1) });
 */
export class RandomSampler implements Sampler {
  readonly name = 'random' as const;

  sample({ space, rng, avoid }: SampleRequest): SampleResult {
    assertValidSearchSpace(space);
    return { params: proposeUnique(space, avoid, rng, () => drawRandomParams(space, rng)), sampler: 'random', startup: false };
  }
}
