/** The value and gradient of an objective at a point. */
export interface ValueAndGradient {
  value: number;
  gradient: Float64Array;
}

export interface MinimizeOptions {
  /** Box constraints, one pair per coordinate; points are projected into them. */
  lower: ArrayLike<number>;
  upper: ArrayLike<number>;
  maxIterations: number;
  /** Stop when the projected gradient's largest component falls below this. */
  gradientTolerance?: number;
  /** Pairs of past steps kept for the curvature estimate. */
  memory?: number;
}

/**
 * Minimize a smooth function inside a box with projected L-BFGS and a
 * backtracking (Armijo) line search. Coordinates at a bound whose gradient
 * points outward are held fixed for the step. Deterministic; returns the best
 * point seen, even when the objective turns non-finite.
 *
 * @example
 * const { x } = minimizeBox((x) => ({ value: (x[0]! - 1) ** 2, gradient: new Float64Array([2 * (x[0]! - 1)]) }), new Float64Array([0]), { lower: [-5], upper: [5], maxIterations: 20 });
 */
export function minimizeBox(objective: (x: Float64Array) => ValueAndGradient, start: Float64Array, options: MinimizeOptions): { x: Float64Array; value: number } {
  const n = start.length;
  const memory = options.memory ?? 8;
  const tolerance = options.gradientTolerance ?? 1e-6;
  let x = project(start, options);
  let current = objective(x);
  if (!Number.isFinite(current.value)) return { x, value: current.value };
  const steps: Float64Array[] = [];
  const changes: Float64Array[] = [];
  const rhos: number[] = [];

  for (let iteration = 0; iteration < options.maxIterations; iteration++) {
    const free = freeMask(x, current.gradient, options);
    let largest = 0;
    for (let i = 0; i < n; i++) if (free[i]) largest = Math.max(largest, Math.abs(current.gradient[i]!));
    if (largest < tolerance) break;

    // Two-loop recursion on the free coordinates.
    const q = new Float64Array(n);
    for (let i = 0; i < n; i++) q[i] = free[i] ? current.gradient[i]! : 0;
    const alphas: number[] = [];
    for (let k = steps.length - 1; k >= 0; k--) {
      const alpha = rhos[k]! * dot(steps[k]!, q);
      alphas[k] = alpha;
      for (let i = 0; i < n; i++) q[i]! -= alpha * changes[k]![i]!;
    }
    if (steps.length > 0) {
      const last = steps.length - 1;
      const scale = dot(steps[last]!, changes[last]!) / dot(changes[last]!, changes[last]!);
      for (let i = 0; i < n; i++) q[i]! *= scale;
    } else {
      // First step: unit-length steepest descent, a safe scale for any objective.
      const norm = Math.sqrt(dot(q, q));
      for (let i = 0; i < n; i++) q[i]! /= norm;
    }
    for (let k = 0; k < steps.length; k++) {
      const beta = rhos[k]! * dot(changes[k]!, q);
      for (let i = 0; i < n; i++) q[i]! += (alphas[k]! - beta) * steps[k]![i]!;
    }
    const direction = q.map((value, i) => (free[i] ? -value : 0));
    let slope = dot(direction, current.gradient);
    if (!(slope < 0)) {
      // Not a descent direction (bad curvature pairs): restart from steepest descent.
      steps.length = 0;
      changes.length = 0;
      rhos.length = 0;
      for (let i = 0; i < n; i++) direction[i] = free[i] ? -current.gradient[i]! : 0;
      slope = dot(direction, current.gradient);
    }

    let stepSize = 1;
    let next: Float64Array | undefined;
    let evaluated: ValueAndGradient | undefined;
    for (let attempt = 0; attempt < 20; attempt++) {
      const candidate = project(x.map((value, i) => value + stepSize * direction[i]!), options);
      const result = objective(candidate);
      if (Number.isFinite(result.value) && result.value <= current.value + 1e-4 * stepSize * slope) {
        next = candidate;
        evaluated = result;
        break;
      }
      stepSize *= 0.5;
    }
    if (next === undefined || evaluated === undefined) break;

    const s = next.map((value, i) => value - x[i]!);
    const y = evaluated.gradient.map((value, i) => value - current.gradient[i]!);
    const curvature = dot(s, y);
    if (curvature > 1e-12) {
      steps.push(s);
      changes.push(y);
      rhos.push(1 / curvature);
      if (steps.length > memory) (steps.shift(), changes.shift(), rhos.shift());
    }
    const improvement = current.value - evaluated.value;
    x = next;
    current = evaluated;
    if (improvement < 1e-10 * Math.max(1, Math.abs(current.value))) break;
  }
  return { x, value: current.value };
}

function project(x: Float64Array, options: MinimizeOptions): Float64Array {
  return x.map((value, i) => Math.min(options.upper[i]!, Math.max(options.lower[i]!, value)));
}

/** Coordinates free to move: not pinned at a bound by a gradient pushing outward. */
function freeMask(x: Float64Array, gradient: Float64Array, options: MinimizeOptions): boolean[] {
  return Array.from(x, (value, i) => !((value <= options.lower[i]! && gradient[i]! > 0) || (value >= options.upper[i]! && gradient[i]! < 0)));
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}
