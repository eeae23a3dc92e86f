import type { FrontierKind } from '../core/config/evolve-config.ts';

/** A pool member's validation results, as the fronts see them. */
export interface ScoredCandidate {
  idx: number;
  /** Score per validation example id, in validation order. */
  scores: ReadonlyMap<string, number>;
  /** Objective scores per validation example id (may be empty). */
  objectives: ReadonlyMap<string, Readonly<Record<string, number>>>;
}

/** One front: the best value reached on a key and every candidate that reaches it. */
export interface Front {
  key: string;
  best: number;
  holders: number[];
}

/**
 * The per-key Pareto fronts of a pool. Keys depend on the frontier type:
 * `instance` = one per validation example, `objective` = one per objective
 * (its mean over validation), `hybrid` = both, `cartesian` = one per
 * (example, objective). A strictly higher value replaces the holders; an
 * equal one joins them.
 *
 * @example
 * computeFronts(pool, 'instance'); // [{ key: 'i:v0', best: 1, holders: [0, 2] }, …]
 */
export function computeFronts(pool: readonly ScoredCandidate[], frontier: FrontierKind): Front[] {
  const fronts = new Map<string, Front>();
  const offer = (key: string, value: number, idx: number) => {
    if (!Number.isFinite(value)) return;
    const front = fronts.get(key);
    if (!front || value > front.best) fronts.set(key, { key, best: value, holders: [idx] });
    else if (value === front.best) front.holders.push(idx);
  };
  for (const candidate of pool) {
    for (const [key, value] of candidateKeys(candidate, frontier)) offer(key, value, candidate.idx);
  }
  return [...fronts.values()];
}

/** The (key, value) pairs a candidate offers to the fronts. */
export function candidateKeys(candidate: ScoredCandidate, frontier: FrontierKind): [string, number][] {
  const pairs: [string, number][] = [];
  if (frontier === 'instance' || frontier === 'hybrid') {
    for (const [id, score] of candidate.scores) pairs.push([`i:${id}`, score]);
  }
  if (frontier === 'objective' || frontier === 'hybrid') {
    const sums = new Map<string, { total: number; count: number }>();
    for (const objectives of candidate.objectives.values()) {
      for (const [name, value] of Object.entries(objectives)) {
        const entry = sums.get(name) ?? { total: 0, count: 0 };
        entry.total += value;
        entry.count += 1;
        sums.set(name, entry);
      }
    }
    for (const name of [...sums.keys()].sort()) {
      const { total, count } = sums.get(name)!;
      pairs.push([`o:${name}`, total / count]);
    }
  }
  if (frontier === 'cartesian') {
    for (const [id, objectives] of candidate.objectives) {
      for (const name of Object.keys(objectives).sort()) pairs.push([`c:${id}:${name}`, objectives[name]!]);
    }
  }
  return pairs;
}
