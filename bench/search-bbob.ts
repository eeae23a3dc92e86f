/**
 * The 24 noiseless BBOB functions (Hansen, Finck, Ros, Auger: "Real-Parameter
 * Black-Box Optimization Benchmarking 2009: Noiseless Functions
 * Definitions", as implemented in COCO), written from the definitions.
 *
 * Instances are our own: the optimum, rotations and permutations are drawn
 * from Strata's seeded generator (not COCO's legacy generator), so values
 * match COCO's functions in shape but not instance by instance. Every
 * function is shifted so its optimum is 0 (no f_opt offset): a value is its
 * regret. The domain is [-5, 5]^D.
 */
import { Random } from '../src/core/random.ts';

/** One instance of a BBOB function: evaluate a point of [-5, 5]^D. */
export interface BbobInstance {
  id: number;
  name: string;
  dimension: number;
  /** f(x) - f(x_opt) for the noiseless function, >= 0 up to rounding. */
  value(x: readonly number[]): number;
}

export const BBOB_NAMES: Readonly<Record<number, string>> = {
  1: 'sphere',
  2: 'ellipsoid',
  3: 'rastrigin',
  4: 'bueche-rastrigin',
  5: 'linear-slope',
  6: 'attractive-sector',
  7: 'step-ellipsoid',
  8: 'rosenbrock',
  9: 'rosenbrock-rotated',
  10: 'ellipsoid-rotated',
  11: 'discus',
  12: 'bent-cigar',
  13: 'sharp-ridge',
  14: 'different-powers',
  15: 'rastrigin-rotated',
  16: 'weierstrass',
  17: 'schaffers-f7',
  18: 'schaffers-f7-ill',
  19: 'griewank-rosenbrock',
  20: 'schwefel',
  21: 'gallagher-101',
  22: 'gallagher-21',
  23: 'katsuura',
  24: 'lunacek',
};

type Vector = number[];
type Matrix = number[][];

/** A random orthogonal matrix: Gram-Schmidt on a Gaussian matrix (as BBOB does). */
function rotation(rng: Random, d: number): Matrix {
  const columns: Vector[] = [];
  for (let i = 0; i < d; i++) {
    const v = Array.from({ length: d }, () => rng.normal());
    for (const u of columns) {
      const dot = v.reduce((sum, value, k) => sum + value * u[k]!, 0);
      for (let k = 0; k < d; k++) v[k]! -= dot * u[k]!;
    }
    const norm = Math.sqrt(v.reduce((sum, value) => sum + value * value, 0));
    columns.push(v.map((value) => value / norm));
  }
  return Array.from({ length: d }, (_, row) => columns.map((column) => column[row]!));
}

function multiply(m: Matrix, x: readonly number[]): Vector {
  return m.map((row) => row.reduce((sum, value, k) => sum + value * x[k]!, 0));
}

/** Λ^α: diag(α^(i/(2(D-1)))). */
function lambda(alpha: number, d: number): Vector {
  return Array.from({ length: d }, (_, i) => alpha ** (d === 1 ? 0.5 : (0.5 * i) / (d - 1)));
}

/** R · diag(scale) · Q as one matrix. */
function compose(r: Matrix, scale: readonly number[], q: Matrix): Matrix {
  const d = scale.length;
  return Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => {
    let sum = 0;
    for (let k = 0; k < d; k++) sum += r[i]![k]! * scale[k]! * q[k]![j]!;
    return sum;
  }));
}

/** T_osz, the oscillation transformation, element-wise. */
function oscillate(x: number): number {
  if (x === 0) return 0;
  const log = Math.log(Math.abs(x));
  return x > 0 ? Math.exp(log + 0.049 * (Math.sin(10 * log) + Math.sin(7.9 * log))) : -Math.exp(log + 0.049 * (Math.sin(5.5 * log) + Math.sin(3.1 * log)));
}

/** T_asy^β. */
function asymmetric(x: readonly number[], beta: number): Vector {
  const d = x.length;
  return x.map((value, i) => (value > 0 ? value ** (1 + (beta * i * Math.sqrt(value)) / Math.max(1, d - 1)) : value));
}

function penalty(x: readonly number[]): number {
  return x.reduce((sum, value) => sum + Math.max(0, Math.abs(value) - 5) ** 2, 0);
}

function shift(x: readonly number[], by: readonly number[]): Vector {
  return x.map((value, i) => value - by[i]!);
}

function rastriginCore(z: readonly number[]): number {
  let cosines = 0;
  let squares = 0;
  for (const value of z) {
    cosines += Math.cos(2 * Math.PI * value);
    squares += value * value;
  }
  return 10 * (z.length - cosines) + squares;
}

function ellipsoidCore(z: readonly number[], condition = 1e6): number {
  const d = z.length;
  return z.reduce((sum, value, i) => sum + condition ** (d === 1 ? 0 : i / (d - 1)) * value * value, 0);
}

function rosenbrockCore(z: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < z.length - 1; i++) sum += 100 * (z[i]! * z[i]! - z[i + 1]!) ** 2 + (z[i]! - 1) ** 2;
  return sum;
}

function schaffersCore(z: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < z.length - 1; i++) {
    const s = z[i]! * z[i]! + z[i + 1]! * z[i + 1]!;
    sum += s ** 0.25 * (1 + Math.sin(50 * s ** 0.1) ** 2);
  }
  return (sum / (z.length - 1)) ** 2;
}

const weierstrassA = Array.from({ length: 12 }, (_, k) => 0.5 ** k);
const weierstrassB = Array.from({ length: 12 }, (_, k) => 3 ** k);
const weierstrassF0 = weierstrassA.reduce((sum, a, k) => sum + a * Math.cos(Math.PI * weierstrassB[k]!), 0);

/** Uniform optimum in [-4, 4]^D, rounded to 1e-4 like BBOB's x_opt. */
function optimum(rng: Random, d: number): Vector {
  return Array.from({ length: d }, () => {
    const value = 8 * (Math.floor(1e4 * rng.next()) / 1e4) - 4;
    return value === 0 ? -1e-5 : value;
  });
}

function signs(rng: Random, d: number): Vector {
  return Array.from({ length: d }, () => (rng.next() < 0.5 ? -1 : 1));
}

function permutation(rng: Random, n: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/** The raw (unshifted) function of one instance; `bbobInstance` subtracts its value at the optimum. */
function raw(id: number, d: number, rng: Random): { f: (x: readonly number[]) => number; best: Vector } {
  const xopt = optimum(rng, d);
  const r = rotation(rng, d);
  const q = rotation(rng, d);
  switch (id) {
    case 1:
      return { f: (x) => shift(x, xopt).reduce((sum, v) => sum + v * v, 0), best: xopt };
    case 2:
      return { f: (x) => ellipsoidCore(shift(x, xopt).map(oscillate)), best: xopt };
    case 3: {
      const scale = lambda(10, d);
      return { f: (x) => rastriginCore(asymmetric(shift(x, xopt).map(oscillate), 0.2).map((v, i) => v * scale[i]!)), best: xopt };
    }
    case 4: {
      // As COCO: the odd-indexed (1st, 3rd, ...) coordinates of x_opt are positive.
      const best = xopt.map((v, i) => (i % 2 === 0 ? Math.abs(v) : v));
      const base = lambda(10, d);
      return {
        f: (x) => {
          const z = shift(x, best).map(oscillate).map((v, i) => v * base[i]! * (v > 0 && i % 2 === 0 ? 10 : 1));
          return rastriginCore(z) + 100 * penalty(x);
        },
        best,
      };
    }
    case 5: {
      const slope = signs(rng, d).map((sign, i) => sign * 10 ** (d === 1 ? 0 : i / (d - 1)));
      const best = slope.map((s) => (s > 0 ? 5 : -5));
      return { f: (x) => x.reduce((sum, v, i) => sum + 5 * Math.abs(slope[i]!) - slope[i]! * Math.min(5, Math.max(-5, v)), 0), best };
    }
    case 6: {
      const m = compose(q, lambda(10, d), r);
      return {
        f: (x) => {
          const z = multiply(m, shift(x, xopt));
          const sum = z.reduce((total, v, i) => total + (v * xopt[i]! > 0 ? 1e4 : 1) * v * v, 0);
          return oscillate(sum) ** 0.9;
        },
        best: xopt,
      };
    }
    case 7: {
      const scale = lambda(10, d);
      const conditions = Array.from({ length: d }, (_, i) => 100 ** (d === 1 ? 0 : i / (d - 1)));
      return {
        f: (x) => {
          const hat = multiply(r, shift(x, xopt)).map((v, i) => v * scale[i]!);
          const rounded = hat.map((v) => (Math.abs(v) > 0.5 ? Math.floor(v + 0.5) : Math.floor(10 * v + 0.5) / 10));
          const z = multiply(q, rounded);
          const sum = z.reduce((total, v, i) => total + conditions[i]! * v * v, 0);
          return 0.1 * Math.max(Math.abs(hat[0]!) / 1e4, sum) + penalty(x);
        },
        best: xopt,
      };
    }
    case 8: {
      const best = xopt.map((v) => 0.75 * v);
      const c = Math.max(1, Math.sqrt(d) / 8);
      return { f: (x) => rosenbrockCore(shift(x, best).map((v) => c * v + 1)), best };
    }
    case 9: {
      const c = Math.max(1, Math.sqrt(d) / 8);
      // z = c R x + 1/2 is 1 at x = R^T (1/2) / c.
      const best = Array.from({ length: d }, (_, j) => r.reduce((sum, row) => sum + row[j]! * 0.5, 0) / c);
      return { f: (x) => rosenbrockCore(multiply(r, x).map((v) => c * v + 0.5)), best };
    }
    case 10:
      return { f: (x) => ellipsoidCore(multiply(r, shift(x, xopt)).map(oscillate)), best: xopt };
    case 11:
      return {
        f: (x) => {
          const z = multiply(r, shift(x, xopt)).map(oscillate);
          return 1e6 * z[0]! * z[0]! + z.slice(1).reduce((sum, v) => sum + v * v, 0);
        },
        best: xopt,
      };
    case 12:
      return {
        f: (x) => {
          const z = multiply(r, asymmetric(multiply(r, shift(x, xopt)), 0.5));
          return z[0]! * z[0]! + 1e6 * z.slice(1).reduce((sum, v) => sum + v * v, 0);
        },
        best: xopt,
      };
    case 13: {
      const m = compose(q, lambda(10, d), r);
      return {
        f: (x) => {
          const z = multiply(m, shift(x, xopt));
          return z[0]! * z[0]! + 100 * Math.sqrt(z.slice(1).reduce((sum, v) => sum + v * v, 0));
        },
        best: xopt,
      };
    }
    case 14:
      return {
        f: (x) => {
          const z = multiply(r, shift(x, xopt));
          return Math.sqrt(z.reduce((sum, v, i) => sum + Math.abs(v) ** (2 + (4 * i) / Math.max(1, d - 1)), 0));
        },
        best: xopt,
      };
    case 15: {
      const m = compose(r, lambda(10, d), q);
      return { f: (x) => rastriginCore(multiply(m, asymmetric(multiply(r, shift(x, xopt)).map(oscillate), 0.2))), best: xopt };
    }
    case 16: {
      const m = compose(r, lambda(0.01, d), q);
      return {
        f: (x) => {
          const z = multiply(m, multiply(r, shift(x, xopt)).map(oscillate));
          let sum = 0;
          for (const v of z) for (let k = 0; k < 12; k++) sum += weierstrassA[k]! * Math.cos(2 * Math.PI * weierstrassB[k]! * (v + 0.5));
          return 10 * (sum / d - weierstrassF0) ** 3 + (10 / d) * penalty(x);
        },
        best: xopt,
      };
    }
    case 17:
    case 18: {
      const scale = lambda(id === 17 ? 10 : 1000, d);
      return {
        f: (x) => {
          const z = multiply(q, asymmetric(multiply(r, shift(x, xopt)), 0.5)).map((v, i) => v * scale[i]!);
          return schaffersCore(z) + 10 * penalty(x);
        },
        best: xopt,
      };
    }
    case 19: {
      const c = Math.max(1, Math.sqrt(d) / 8);
      const best = Array.from({ length: d }, (_, j) => r.reduce((sum, row) => sum + row[j]! * 0.5, 0) / c);
      return {
        f: (x) => {
          const z = multiply(r, x).map((v) => c * v + 0.5);
          let sum = 0;
          for (let i = 0; i < d - 1; i++) {
            const s = 100 * (z[i]! * z[i]! - z[i + 1]!) ** 2 + (z[i]! - 1) ** 2;
            sum += s / 4000 - Math.cos(s);
          }
          return 10 + (10 * sum) / (d - 1);
        },
        best,
      };
    }
    case 20: {
      const sign = signs(rng, d);
      const best = sign.map((s) => (s * 4.2096874637) / 2);
      const twiceAbs = best.map((v) => 2 * Math.abs(v));
      const scale = lambda(10, d);
      return {
        f: (x) => {
          const hat = x.map((v, i) => 2 * sign[i]! * v);
          const zHat = hat.map((v, i) => (i === 0 ? v : v + 0.25 * (hat[i - 1]! - twiceAbs[i - 1]!)));
          const z = zHat.map((v, i) => 100 * (scale[i]! * (v - twiceAbs[i]!) + twiceAbs[i]!));
          const sum = z.reduce((total, v) => total + v * Math.sin(Math.sqrt(Math.abs(v))), 0);
          return 0.01 * (418.9828872724339 - sum / d) + 0.01 * z.reduce((total, v) => total + Math.max(0, Math.abs(v) - 500) ** 2, 0);
        },
        best,
      };
    }
    case 21:
    case 22: {
      const peaks = id === 21 ? 101 : 21;
      const [b, c] = id === 21 ? [10, 5] : [9.8, 4.9];
      const firstCondition = id === 21 ? Math.sqrt(1000) : 1000;
      const order = permutation(rng, peaks - 1);
      const conditions = [firstCondition, ...order.map((rank) => 1000 ** (rank / (peaks - 2)))];
      const heights = [10, ...Array.from({ length: peaks - 1 }, (_, i) => 1.1 + (8 * i) / (peaks - 2))];
      const scales = conditions.map((condition) => permutation(rng, d).map((rank) => condition ** (rank / Math.max(1, d - 1) - 0.5)));
      const centres = Array.from({ length: peaks }, (_, i) => Array.from({ length: d }, () => (i === 0 ? 0.8 : 1) * (b * rng.next() - c)));
      const rotatedCentres = centres.map((centre) => multiply(r, centre));
      return {
        f: (x) => {
          const rx = multiply(r, x);
          let highest = 0;
          for (let i = 0; i < peaks; i++) {
            let sum = 0;
            for (let j = 0; j < d; j++) sum += scales[i]![j]! * (rx[j]! - rotatedCentres[i]![j]!) ** 2;
            highest = Math.max(highest, heights[i]! * Math.exp((-0.5 / d) * sum));
          }
          return oscillate(10 - highest) ** 2 + penalty(x);
        },
        best: centres[0]!,
      };
    }
    case 23: {
      const m = compose(q, lambda(100, d), r);
      const exponent = 10 / d ** 1.2;
      return {
        f: (x) => {
          const z = multiply(m, shift(x, xopt));
          let product = 1;
          z.forEach((v, i) => {
            let sum = 0;
            for (let j = 1; j <= 32; j++) {
              const t = 2 ** j * v;
              sum += Math.abs(t - Math.round(t)) / 2 ** j;
            }
            product *= 1 + (i + 1) * sum;
          });
          return (10 / (d * d)) * (product ** exponent - 1) + penalty(x);
        },
        best: xopt,
      };
    }
    case 24: {
      const mu0 = 2.5;
      const s = 1 - 1 / (2 * Math.sqrt(d + 20) - 8.2);
      const mu1 = -Math.sqrt((mu0 * mu0 - 1) / s);
      const sign = signs(rng, d);
      const best = sign.map((value) => (value * mu0) / 2);
      const m = compose(q, lambda(100, d), r);
      return {
        f: (x) => {
          const hat = x.map((v, i) => 2 * sign[i]! * v);
          const z = multiply(m, hat.map((v) => v - mu0));
          const first = hat.reduce((sum, v) => sum + (v - mu0) ** 2, 0);
          const second = d + s * hat.reduce((sum, v) => sum + (v - mu1) ** 2, 0);
          const cosines = z.reduce((sum, v) => sum + Math.cos(2 * Math.PI * v), 0);
          return Math.min(first, second) + 10 * (d - cosines) + 1e4 * penalty(x);
        },
        best,
      };
    }
    default:
      throw new RangeError(`BBOB has functions 1..24, got ${id}`);
  }
}

/**
 * One instance of BBOB function `id` in `dimension` dimensions, drawn from
 * `instance` (a seed), shifted so that its optimum is 0.
 *
 * @example
 * const f = bbobInstance(8, 5, 1000);
 * f.value([0, 0, 0, 0, 0]); // regret of the origin on a 5-D Rosenbrock instance
 */
export function bbobInstance(id: number, dimension: number, instance: number): BbobInstance {
  if (dimension < 2) throw new RangeError(`BBOB functions need at least 2 dimensions, got ${dimension}`);
  const { f, best } = raw(id, dimension, Random.fromSeed(`bbob:${id}:${dimension}:${instance}`));
  const floor = f(best);
  return { id, name: BBOB_NAMES[id]!, dimension, value: (x) => f(x) - floor };
}
