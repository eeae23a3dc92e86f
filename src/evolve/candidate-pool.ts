import type { FrontierKind } from '../core/config/evolve-config.ts';
import type { CachedEvaluation } from './evaluation-cache.ts';
import { computeFronts, type Front, type ScoredCandidate } from './pareto-front.ts';
import { bestIndex } from './parent-selectors.ts';
import type { PoolCandidate } from './types.ts';

/**
 * The accepted candidates (index = identity, parents always earlier), with
 * their full validation results, fronts and lineage.
 */
export class CandidatePool {
  readonly members: PoolCandidate[] = [];
  private readonly scored: ScoredCandidate[] = [];
  private readonly frontier: FrontierKind;
  private frontsCache: Front[] | undefined;

  constructor(frontier: FrontierKind) {
    this.frontier = frontier;
  }

  get size(): number {
    return this.members.length;
  }

  get(idx: number): PoolCandidate {
    const member = this.members[idx];
    if (!member) throw new RangeError(`no candidate #${idx} in a pool of ${this.members.length}`);
    return member;
  }

  /** Add a candidate with its validation results (in validation order). */
  add(member: Omit<PoolCandidate, 'idx' | 'valScores' | 'valMean'>, validation: readonly CachedEvaluation[]): PoolCandidate {
    const idx = this.members.length;
    for (const parent of member.parents) if (!(parent < idx)) throw new RangeError(`parent #${parent} must precede child #${idx}`);
    const valScores = Object.fromEntries(validation.map((e) => [e.exampleId, e.score]));
    const valMean = validation.length === 0 ? 0 : validation.reduce((sum, e) => sum + e.score, 0) / validation.length;
    const full: PoolCandidate = { ...member, idx, valScores, valMean };
    this.members.push(full);
    this.scored.push({
      idx,
      scores: new Map(validation.map((e) => [e.exampleId, e.score])),
      objectives: new Map(validation.filter((e) => e.objectives).map((e) => [e.exampleId, e.objectives!])),
    });
    this.frontsCache = undefined;
    return full;
  }

  means(): number[] {
    return this.members.map((m) => m.valMean);
  }

  best(): PoolCandidate {
    return this.get(bestIndex(this.means()));
  }

  fronts(): Front[] {
    this.frontsCache ??= computeFronts(this.scored, this.frontier);
    return this.frontsCache;
  }

  scoredCandidates(): readonly ScoredCandidate[] {
    return this.scored;
  }

  /** Candidates holding at least one front. */
  frontSize(): number {
    const holders = new Set<number>();
    for (const front of this.fronts()) for (const idx of front.holders) holders.add(idx);
    return holders.size;
  }

  /** Every ancestor of a candidate (not itself). */
  ancestors(idx: number): Set<number> {
    const seen = new Set<number>();
    const stack = [...this.get(idx).parents];
    while (stack.length > 0) {
      const next = stack.pop()!;
      if (seen.has(next)) continue;
      seen.add(next);
      stack.push(...this.get(next).parents);
    }
    return seen;
  }

  findByHash(hash: string): PoolCandidate | undefined {
    return this.members.find((m) => m.hash === hash);
  }
}
