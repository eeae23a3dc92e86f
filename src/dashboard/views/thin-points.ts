import type { TrialPoint } from '../../ledger/stores/trial-query-store.ts';

/** A finished trial as a point of the progress chart (with what its hover shows). */
export type ChartPoint = TrialPoint;

/**
 * At most about `limit` of the chart's points, in order: every kept trial,
 * every failure (no usable metric) and every trial with a holdout stay,
 * whatever their number; the discards share what is left, in buckets along
 * the trial axis, each keeping its lowest and highest metric so the cloud's
 * outline and outliers survive. Fewer than `limit` points come back as they are.
 *
 * @example
 * thinPoints(points, 3000).length; // ≤ 3000 + the keeps and failures beyond it
 */
export function thinPoints<T extends Pick<ChartPoint, 'seq' | 'status' | 'metric' | 'holdout'>>(points: readonly T[], limit: number): T[] {
  if (points.length <= limit) return [...points];
  const usable = (point: T) => point.metric !== null && Number.isFinite(point.metric);
  const kept = new Set<T>();
  const discards: T[] = [];
  for (const point of points) {
    if (point.status === 'keep' || !usable(point) || point.holdout !== null) kept.add(point);
    else discards.push(point);
  }
  const buckets = Math.floor(Math.max(0, limit - kept.size) / 2);
  if (buckets > 0 && discards.length > 0) {
    const first = discards[0]!.seq;
    const width = (discards.at(-1)!.seq - first + 1) / buckets;
    const low = new Map<number, T>();
    const high = new Map<number, T>();
    for (const point of discards) {
      const bucket = Math.min(buckets - 1, Math.floor((point.seq - first) / width));
      if (!low.has(bucket) || point.metric! < low.get(bucket)!.metric!) low.set(bucket, point);
      if (!high.has(bucket) || point.metric! > high.get(bucket)!.metric!) high.set(bucket, point);
    }
    for (const point of [...low.values(), ...high.values()]) kept.add(point);
  }
  return points.filter((point) => kept.has(point));
}
