import type { EvolveConfig } from '../core/config/evolve-config.ts';
import type { EngineOptionsInput } from './optimize.ts';

/**
 * The engine settings of an `evolve:` config section, as `optimize()` takes
 * them. `strata evolve` and pipeline evolve stages both start from this and
 * override what differs (concurrency, the reflection prompt text).
 *
 * @example
 * await optimize({ ...engineOptionsFromConfig(config.evolve), seed, trainset, valset, evaluate, reflectionModel, budget });
 */
export function engineOptionsFromConfig(evolve: EvolveConfig): Omit<EngineOptionsInput, 'evaluatorVersion'> {
  return {
    minibatchSize: evolve.minibatchSize,
    perfectScore: evolve.perfectScore,
    skipPerfect: evolve.skipPerfect,
    selector: evolve.selector,
    epsilon: evolve.epsilon,
    topK: evolve.topK,
    componentSelector: evolve.componentSelector,
    acceptance: evolve.acceptance,
    frontier: evolve.frontier,
    merge: evolve.merge,
    concurrency: evolve.concurrency,
    randomSeed: evolve.randomSeed,
    maxComponentChars: evolve.maxComponentChars,
    reflection: { maxOutputTokens: evolve.reflection.maxOutputTokens, attempts: evolve.reflection.attempts },
  };
}
