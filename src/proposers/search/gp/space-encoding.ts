import type { Random } from '../../../core/random.ts';
import { activeOnly, activationOrder, type ParamSpec, type ParamValue, type ParamValues, type SearchSpace } from '../../../core/search-space.ts';
import { clamp } from '../random-draw.ts';

/** Where one parameter lives in the encoded vector. */
export interface EncodedParam {
  name: string;
  spec: ParamSpec;
  /** First coordinate; a choice of k values takes k coordinates (one-hot), anything else one. */
  offset: number;
  width: number;
}

/**
 * A search space as the unit cube a Gaussian process works in: floats and
 * ints scaled to [0, 1] (log dimensions in log space), choices one-hot. An
 * inactive conditional parameter encodes as the middle of its range (a choice
 * as all zeros), so two points that differ only in inactive parameters are
 * the same point; its parents' coordinates already tell the branches apart.
 *
 * @example
 * const encoding = new SpaceEncoding(space);
 * const x = encoding.encode({ lr: 0.01, act: 'relu' }); // Float64Array in [0, 1]
 * encoding.decode(x); // { lr: 0.01, act: 'relu' } (ints rounded, choices by largest coordinate)
 */
export class SpaceEncoding {
  readonly params: readonly EncodedParam[];
  readonly dimension: number;
  private readonly space: SearchSpace;

  constructor(space: SearchSpace) {
    this.space = space;
    let offset = 0;
    this.params = activationOrder(space).map((name) => {
      const spec = space[name]!;
      const width = spec.type === 'choice' ? spec.values.length : 1;
      const param = { name, spec, offset, width };
      offset += width;
      return param;
    });
    this.dimension = offset;
  }

  /** The unit-cube point of a parameter set (missing or invalid values encode as inactive). */
  encode(params: ParamValues): Float64Array {
    const x = new Float64Array(this.dimension);
    for (const { name, spec, offset } of this.params) {
      const value = params[name];
      if (spec.type === 'choice') {
        const index = value === undefined ? -1 : spec.values.indexOf(value);
        if (index >= 0) x[offset + index] = 1;
        continue;
      }
      // A stale value outside the bounds (a resumed study with a narrowed range) sits on the nearer bound.
      x[offset] = typeof value !== 'number' || !Number.isFinite(value) ? 0.5 : value <= spec.low ? 0 : value >= spec.high ? 1 : toUnit(spec, value);
    }
    return x;
  }

  /** The parameter set nearest to a point (ints rounded, the largest one-hot coordinate wins), active parameters only. */
  decode(x: ArrayLike<number>): ParamValues {
    const params: ParamValues = {};
    for (const { name, spec, offset, width } of this.params) {
      if (spec.type === 'choice') {
        let best = 0;
        for (let k = 1; k < width; k++) if (x[offset + k]! > x[offset + best]!) best = k;
        params[name] = spec.values[best]!;
      } else {
        params[name] = fromUnit(spec, clamp(x[offset]!, 0, 1));
      }
    }
    return activeOnly(this.space, params);
  }

  /** Snap a point to what it will be observed as: decode, then encode again. */
  canonical(x: ArrayLike<number>): Float64Array {
    return this.encode(this.decode(x));
  }

  /** Coordinates a continuous optimizer may move at this point: numeric parameters that are active. */
  movable(params: ParamValues): Uint8Array {
    const mask = new Uint8Array(this.dimension);
    for (const { name, spec, offset } of this.params) if (spec.type !== 'choice' && params[name] !== undefined) mask[offset] = 1;
    return mask;
  }

  /** A uniformly random point of the cube with one-hot choices (a prior draw). */
  randomPoint(rng: Random): Float64Array {
    const x = new Float64Array(this.dimension);
    for (const { spec, offset, width } of this.params) {
      if (spec.type === 'choice') x[offset + rng.int(0, width - 1)] = 1;
      else x[offset] = rng.next();
    }
    return x;
  }
}

function toUnit(spec: Extract<ParamSpec, { type: 'float' | 'int' }>, value: number): number {
  if (spec.log) return (Math.log(value) - Math.log(spec.low)) / (Math.log(spec.high) - Math.log(spec.low));
  return (value - spec.low) / (spec.high - spec.low);
}

function fromUnit(spec: Extract<ParamSpec, { type: 'float' | 'int' }>, u: number): ParamValue {
  const value = spec.log ? Math.exp(Math.log(spec.low) + u * (Math.log(spec.high) - Math.log(spec.low))) : spec.low + u * (spec.high - spec.low);
  if (spec.type === 'int') return clamp(Math.round(value), spec.low, spec.high);
  // exp(log(x)) and low + (high - low) * u can land one ulp outside the bounds.
  return clamp(value, spec.low, spec.high);
}
