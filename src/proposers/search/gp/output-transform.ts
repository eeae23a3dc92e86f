/** How losses are reshaped before the Gaussian process sees them. */
export type OutputTransform = 'standardize' | 'rank' | 'log';

/**
 * Losses made fit for a stationary Gaussian model, standardized to mean 0
 * and sd 1 at the end. `rank` maps the ranks to normal quantiles (a Gaussian
 * copula: robust to heavy tails and any monotone rescaling of the metric,
 * blind to magnitudes); `log` takes log(y - min + delta) with delta a tenth
 * of the gap from the minimum to the median, which tames the orders of
 * magnitude an ill-conditioned loss spans while keeping them ordered.
 *
 * @example
 * transformLosses([1, 10, 100], 'rank'); // ≈ [-1.22, 0, 1.22]
 */
export function transformLosses(losses: readonly number[], transform: OutputTransform): Float64Array {
  const n = losses.length;
  let values: Float64Array;
  if (transform === 'rank') {
    const order = losses.map((_, i) => i).sort((a, b) => losses[a]! - losses[b]!);
    values = new Float64Array(n);
    // Ties share the mean of their ranks.
    for (let start = 0; start < n; ) {
      let end = start;
      while (end + 1 < n && losses[order[end + 1]!] === losses[order[start]!]) end++;
      const rank = (start + end) / 2;
      for (let k = start; k <= end; k++) values[order[k]!] = normalQuantile((rank + 0.5) / n);
      start = end + 1;
    }
  } else if (transform === 'log') {
    const sorted = losses.slice().sort((a, b) => a - b);
    const min = sorted[0]!;
    const median = sorted[Math.floor((n - 1) / 2)]!;
    const spread = sorted[n - 1]! - min;
    const delta = Math.max(0.1 * (median - min), 1e-9 * Math.max(spread, Math.abs(min), 1e-300));
    values = Float64Array.from(losses, (y) => Math.log(y - min + delta));
  } else {
    values = Float64Array.from(losses);
  }
  return standardize(values);
}

function standardize(values: Float64Array): Float64Array {
  const n = values.length;
  let mean = 0;
  for (const value of values) mean += value;
  mean /= n;
  let variance = 0;
  for (const value of values) variance += (value - mean) ** 2;
  const sd = Math.sqrt(variance / Math.max(1, n - 1));
  const scale = sd > 1e-300 && Number.isFinite(sd) ? sd : 1;
  return values.map((value) => (value - mean) / scale);
}

/**
 * Φ⁻¹(p), the standard normal quantile (Acklam's rational approximation,
 * relative error below 1.2e-9).
 */
export function normalQuantile(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  if (p > 1 - low) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}
