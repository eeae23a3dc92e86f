import type { Random } from '../../core/random.ts';
import { drawActive, type ParamSpec, type ParamValue, type ParamValues, type SearchSpace } from '../../core/search-space.ts';

/**
 * One value drawn from a dimension's prior: uniform, log-uniform for log
 * dimensions, uniform over the integers for ints (both ends included), and
 * uniform over the listed values for choices. Assumes a validated spec.
 *
 * @example
 * drawRandomValue({ type: 'int', low: 1, high: 1024, log: true }, rng); // e.g. 37
 */
export function drawRandomValue(spec: ParamSpec, rng: Random): ParamValue {
  switch (spec.type) {
    case 'choice':
      return rng.pick(spec.values);
    case 'float': {
      const value = spec.log ? Math.exp(rng.uniform(Math.log(spec.low), Math.log(spec.high))) : rng.uniform(spec.low, spec.high);
      // exp(log(x)) and low + (high - low) * u can land one ulp outside the bounds.
      return clamp(value, spec.low, spec.high);
    }
    case 'int': {
      if (!spec.log) return rng.int(spec.low, spec.high);
      // Log-uniform over the cells [k - 0.5, k + 0.5): integer k gets mass
      // proportional to log((k + 0.5) / (k - 0.5)), the discrete analogue of 1/x.
      const value = Math.exp(rng.uniform(Math.log(spec.low - 0.5), Math.log(spec.high + 0.5)));
      return clamp(Math.round(value), spec.low, spec.high);
    }
  }
}

/**
 * A whole parameter set drawn from the prior, dimensions visited parents
 * first, then in name order, so the result does not depend on the config's key
 * order; a conditional parameter is drawn only when it is active.
 *
 * @example
 * drawRandomParams({ lr: { type: 'float', low: 1e-4, high: 1e-1, log: true } }, rng); // { lr: 0.0031 }
 */
export function drawRandomParams(space: SearchSpace, rng: Random): ParamValues {
  return drawActive(space, (_name, spec) => drawRandomValue(spec, rng));
}

export function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}
