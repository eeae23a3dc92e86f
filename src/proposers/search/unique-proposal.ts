import { StrataError } from '../../core/errors.ts';
import type { Random } from '../../core/random.ts';
import { activeOnly, isConditional, paramsKey, type ParamValue, type ParamValues, type SearchSpace } from '../../core/search-space.ts';
import { drawRandomParams } from './random-draw.ts';
import { orderedNames } from './sampler.ts';

/** How hard to look for a fresh point before scanning a finite space. */
export interface UniqueProposalLimits {
  /** Calls to the sampler's own `propose` before falling back to random draws. */
  proposeAttempts: number;
  /** Random draws before a finite space is scanned point by point. */
  randomAttempts: number;
}

export const defaultUniqueProposalLimits: UniqueProposalLimits = { proposeAttempts: 8, randomAttempts: 64 };

/**
 * Run `propose` until it returns a parameter set whose {@link paramsKey} is
 * not in `avoid`; after `proposeAttempts` misses, draw from the prior instead;
 * after `randomAttempts` more, scan the space (if finite) from a random point.
 * Throws a StrataError with code `search_exhausted` when every point of a
 * finite space is avoided.
 *
 * @example
 * const params = proposeUnique(space, avoid, rng, () => tpe.propose(space, history, rng));
 */
export function proposeUnique(
  space: SearchSpace,
  avoid: ReadonlySet<string> | undefined,
  rng: Random,
  propose: () => ParamValues,
  limits: UniqueProposalLimits = defaultUniqueProposalLimits,
): ParamValues {
  if (avoid === undefined || avoid.size === 0) return propose();
  for (let attempt = 0; attempt < limits.proposeAttempts; attempt++) {
    const params = propose();
    if (!avoid.has(paramsKey(params))) return params;
  }
  for (let attempt = 0; attempt < limits.randomAttempts; attempt++) {
    const params = drawRandomParams(space, rng);
    if (!avoid.has(paramsKey(params))) return params;
  }
  const free = scanFinite(space, avoid, rng);
  if (free !== undefined) return free;
  const size = finiteSpaceSize(space);
  const message = Number.isFinite(size)
    ? `all ${size} parameter sets of the search space were already run, are running, or crashed; widen research.params or lower the trial budget`
    : `no unused parameter set found after ${limits.proposeAttempts + limits.randomAttempts} draws; widen research.params`;
  throw new StrataError('search_exhausted', message, { details: { size, avoided: avoid.size } });
}

/** Conditional spaces are counted point by point up to this many combinations of all their values. */
const MAX_CONDITIONAL_SCAN = 1_000_000;

/**
 * Number of distinct parameter sets, or Infinity when any dimension is a
 * float. A conditional space holds fewer sets than the product of its
 * dimensions (an inactive parameter takes no value), so it is counted.
 */
export function finiteSpaceSize(space: SearchSpace): number {
  const combinations = combinationCount(space);
  if (!isConditional(space) || !Number.isFinite(combinations)) return combinations;
  if (combinations > MAX_CONDITIONAL_SCAN) return Number.POSITIVE_INFINITY;
  const seen = new Set<string>();
  odometer(space, 0, combinations, (params) => {
    seen.add(paramsKey(params));
    return false;
  });
  return seen.size;
}

/** Product of every dimension's size, ignoring conditions; Infinity with a float. */
function combinationCount(space: SearchSpace): number {
  let size = 1;
  for (const spec of Object.values(space)) {
    if (spec.type === 'float') return Number.POSITIVE_INFINITY;
    size *= spec.type === 'int' ? spec.high - spec.low + 1 : spec.values.length;
  }
  return size;
}

/**
 * The first point not in `avoid`, walking a finite space like an odometer from
 * a random start. Among any avoid.size + 1 distinct points one is free, so the
 * walk is bounded by min(size, avoid.size + 1) steps; in a conditional space
 * several combinations are one point, so the walk may need every combination.
 */
function scanFinite(space: SearchSpace, avoid: ReadonlySet<string>, rng: Random): ParamValues | undefined {
  const combinations = combinationCount(space);
  if (!Number.isFinite(combinations) || (isConditional(space) && combinations > MAX_CONDITIONAL_SCAN)) return undefined;
  const start = Math.floor(rng.next() * combinations);
  const steps = isConditional(space) ? combinations : Math.min(combinations, avoid.size + 1);
  let free: ParamValues | undefined;
  odometer(space, start, steps, (params) => {
    if (avoid.has(paramsKey(params))) return false;
    free = params;
    return true;
  });
  return free;
}

/** Visit `steps` combinations from index `start` (wrapping), each reduced to its active parameters, until `visit` returns true. */
function odometer(space: SearchSpace, start: number, steps: number, visit: (params: ParamValues) => boolean): void {
  const names = orderedNames(space);
  const radices = names.map((name) => {
    const spec = space[name]!;
    return spec.type === 'int' ? spec.high - spec.low + 1 : spec.type === 'choice' ? spec.values.length : 0;
  });
  let rest = start;
  const digits = radices.map((radix) => {
    const digit = rest % radix;
    rest = Math.floor(rest / radix);
    return digit;
  });
  for (let step = 0; step < steps; step++) {
    const params: ParamValues = {};
    names.forEach((name, index) => {
      params[name] = valueAt(space, name, digits[index]!);
    });
    if (visit(activeOnly(space, params))) return;
    for (let index = 0; index < digits.length; index++) {
      digits[index] = (digits[index]! + 1) % radices[index]!;
      if (digits[index] !== 0) break;
    }
  }
}

function valueAt(space: SearchSpace, name: string, digit: number): ParamValue {
  const spec = space[name]!;
  if (spec.type === 'int') return spec.low + digit;
  if (spec.type === 'choice') return spec.values[digit]!;
  throw new RangeError(`dimension ${name} is continuous and has no index ${digit}`);
}
