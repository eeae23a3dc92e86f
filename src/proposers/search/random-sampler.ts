import type { Random } from '../../core/random.ts';
import type { Observation, ParamValues, SearchSpace } from '../../core/search-space.ts';
import { drawRandomParams } from './random-draw.ts';
import { assertValidSearchSpace, type Sampler } from './sampler.ts';
import { proposeUnique } from './unique-proposal.ts';

/**
 * Independent draws from each dimension's prior (uniform; log-uniform for log
 * dimensions; integers inclusive of both ends). Ignores history; honours `avoid`.
 *
 * @example
 * const params = new RandomSampler().sample(space, [], Random.fromSeed(1));
 */
export class RandomSampler implements Sampler {
  readonly name = 'random' as const;

  sample(space: SearchSpace, _history: readonly Observation[], rng: Random, avoid?: ReadonlySet<string>): ParamValues {
    assertValidSearchSpace(space);
    return proposeUnique(space, avoid, rng, () => drawRandomParams(space, rng));
  }
}
