/**
 * Dense linear algebra for the Gaussian process: a Cholesky factorization and
 * triangular solves on row-major Float64Arrays. Small (n <= a few hundred),
 * so plain loops beat anything clever.
 */

/**
 * Lower-triangular L with L Lᵀ = A (row-major n×n), or undefined when A is
 * not numerically positive definite. A is left untouched.
 *
 * @example
 * const l = cholesky(new Float64Array([4, 2, 2, 3]), 2); // [2, 0, 1, 1.414…]
 */
export function cholesky(a: Float64Array, n: number): Float64Array | undefined {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const rowI = i * n;
    for (let j = 0; j <= i; j++) {
      const rowJ = j * n;
      let sum = a[rowI + j]!;
      for (let k = 0; k < j; k++) sum -= l[rowI + k]! * l[rowJ + k]!;
      if (i === j) {
        if (!(sum > 0)) return undefined;
        l[rowI + i] = Math.sqrt(sum);
      } else {
        l[rowI + j] = sum / l[rowJ + j]!;
      }
    }
  }
  return l;
}

/** Solve L x = b for lower-triangular L (forward substitution). */
export function solveLower(l: Float64Array, n: number, b: ArrayLike<number>): Float64Array {
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sum = b[i]!;
    const row = i * n;
    for (let k = 0; k < i; k++) sum -= l[row + k]! * x[k]!;
    x[i] = sum / l[row + i]!;
  }
  return x;
}

/** Solve Lᵀ x = b for lower-triangular L (back substitution). */
export function solveUpperTransposed(l: Float64Array, n: number, b: ArrayLike<number>): Float64Array {
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let sum = b[i]!;
    for (let k = i + 1; k < n; k++) sum -= l[k * n + i]! * x[k]!;
    x[i] = sum / l[i * n + i]!;
  }
  return x;
}

/** A⁻¹ from its Cholesky factor (row-major, symmetric). */
export function inverseFromCholesky(l: Float64Array, n: number): Float64Array {
  // Invert L (lower triangular), then A⁻¹ = L⁻ᵀ L⁻¹.
  const inverseL = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    inverseL[j * n + j] = 1 / l[j * n + j]!;
    for (let i = j + 1; i < n; i++) {
      let sum = 0;
      for (let k = j; k < i; k++) sum -= l[i * n + k]! * inverseL[k * n + j]!;
      inverseL[i * n + j] = sum / l[i * n + i]!;
    }
  }
  const inverse = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = 0;
      for (let k = i; k < n; k++) sum += inverseL[k * n + i]! * inverseL[k * n + j]!;
      inverse[i * n + j] = sum;
      inverse[j * n + i] = sum;
    }
  }
  return inverse;
}
