import type { FrontierKind, ParentSelectorKind } from '../core/config/evolve-config.ts';
import type { Random } from '../core/random.ts';
import { computeFronts, type Front, type ScoredCandidate } from './pareto-front.ts';

/**
 * The candidates worth keeping on the fronts: scanning in ascending mean
 * score (then index), drop the first candidate whose every front is also
 * held by another remaining candidate, and restart the scan after each drop.
 *
 * @example
 * paretoSurvivors([{ key: 'v0', best: 1, holders: [0, 1] }, { key: 'v1', best: 1, holders: [1] }], [0.3, 0.6]); // [1]
 */
export function paretoSurvivors(fronts: readonly Front[], means: readonly number[]): number[] {
  const remaining = new Set<number>();
  for (const front of fronts) for (const idx of front.holders) remaining.add(idx);
  const order = [...remaining].sort((a, b) => means[a]! - means[b]! || a - b);
  let dropped = true;
  while (dropped) {
    dropped = false;
    for (const idx of order) {
      if (!remaining.has(idx)) continue;
      const held = fronts.filter((front) => front.holders.includes(idx));
      const covered = held.every((front) => front.holders.some((other) => other !== idx && remaining.has(other)));
      if (covered) {
        remaining.delete(idx);
        dropped = true;
        break;
      }
    }
  }
  return [...remaining].sort((a, b) => a - b);
}

/**
 * Draw a parent among the survivors, each weighted by how many fronts it holds.
 *
 * @example
 * paretoPick(fronts, means, rng); // 1
 */
export function paretoPick(fronts: readonly Front[], means: readonly number[], rng: Random): number {
  const survivors = new Set(paretoSurvivors(fronts, means));
  const tickets: number[] = [];
  for (const front of fronts) for (const idx of front.holders) if (survivors.has(idx)) tickets.push(idx);
  if (tickets.length === 0) return bestIndex(means);
  return rng.pick(tickets);
}

/** The index with the highest mean (lowest index on ties). */
export function bestIndex(means: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < means.length; i++) if (means[i]! > means[best]!) best = i;
  return best;
}

/** The k best indices by mean (ties: lower index first). */
export function topIndices(means: readonly number[], k: number): number[] {
  return means
    .map((mean, idx) => ({ mean, idx }))
    .sort((a, b) => b.mean - a.mean || a.idx - b.idx)
    .slice(0, k)
    .map((entry) => entry.idx);
}

/**
 * Choose the parent of the next proposal.
 * - `pareto`: frequency-weighted among the Pareto survivors (the default)
 * - `current-best`: the best mean
 * - `epsilon-greedy`: a uniform pick with probability epsilon, else the best
 * - `top-k-pareto`: Pareto selection among the k best by mean only
 */
export function selectParent(
  kind: ParentSelectorKind,
  input: { pool: readonly ScoredCandidate[]; frontier: FrontierKind; fronts: readonly Front[]; means: readonly number[]; epsilon: number; topK: number },
  rng: Random,
): number {
  const { fronts, means } = input;
  switch (kind) {
    case 'pareto':
      return paretoPick(fronts, means, rng);
    case 'current-best':
      return bestIndex(means);
    case 'epsilon-greedy':
      return rng.next() < input.epsilon ? rng.int(0, means.length - 1) : bestIndex(means);
    case 'top-k-pareto': {
      // The fronts are recomputed among the k best, so a key held only by others still counts.
      const top = new Set(topIndices(means, input.topK));
      return paretoPick(computeFronts(input.pool.filter((candidate) => top.has(candidate.idx)), input.frontier), means, rng);
    }
  }
}
