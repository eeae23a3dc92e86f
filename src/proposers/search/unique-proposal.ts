import { StrataError } from '../../core/errors.ts';
import type { Random } from '../../core/random.ts';
import { paramsKey, type ParamValue, type ParamValues, type SearchSpace } from '../../core/search-space.ts';
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

/** Number of distinct parameter sets, or Infinity when any dimension is a float. */
export function finiteSpaceSize(space: SearchSpace): number {
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
 * walk is bounded by min(size, avoid.size + 1) steps.
 */
function scanFinite(space: SearchSpace, avoid: ReadonlySet<string>, rng: Random): ParamValues | undefined {
  const size = finiteSpaceSize(space);
  if (!Number.isFinite(size)) return undefined;
  const names = orderedNames(space);
  const radices = names.map((name) => {
    const spec = space[name]!;
    return spec.type === 'int' ? spec.high - spec.low + 1 : spec.type === 'choice' ? spec.values.length : 0;
  });
  const digits = radices.map((radix) => rng.int(0, radix - 1));
  const steps = Math.min(size, avoid.size + 1);
  for (let step = 0; step < steps; step++) {
    const params: ParamValues = {};
    names.forEach((name, index) => {
      params[name] = valueAt(space, name, digits[index]!);
    });
    if (!avoid.has(paramsKey(params))) return params;
    for (let index = 0; index < digits.length; index++) {
      digits[index] = (digits[index]! + 1) % radices[index]!;
      if (digits[index] !== 0) break;
    }
  }
  return undefined;
}

function valueAt(space: SearchSpace, name: string, digit: number): ParamValue {
  const spec = space[name]!;
  if (spec.type === 'int') return spec.low + digit;
  if (spec.type === 'choice') return spec.values[digit]!;
  throw new RangeError(`dimension ${name} is continuous and has no index ${digit}`);
}
