import { Random } from '../core/random.ts';
import { evaluateBatch } from './batch-evaluator.ts';
import type { CandidatePool } from './candidate-pool.ts';
import { candidateHash } from './content-hash.ts';
import { affordable, sum, type StepContext, type StepRecord, type StepStop } from './engine-context.ts';
import type { MergeState } from './engine-snapshot.ts';
import { paretoSurvivors } from './parent-selectors.ts';
import type { Candidate } from './types.ts';

const PAIR_TRIES = 10;

/** Two pool candidates, a common ancestor, and the child combined from them. */
export interface MergePlan {
  i: number;
  j: number;
  ancestor: number;
  child: Candidate;
  hash: string;
}

/**
 * Find a merge: two Pareto survivors that are not ancestor and descendant,
 * with a common ancestor (not tried with this pair) scoring no higher than
 * either, where some component changed on exactly one side. The ancestor is
 * drawn weighted by its mean; children already produced are skipped.
 * Updates `merge.tried` / `merge.produced`.
 *
 * @example
 * const plan = findMerge(pool, snapshot.merge, rng); // { i: 2, j: 4, ancestor: 0, child, hash } or null
 */
export function findMerge(pool: CandidatePool, merge: MergeState, rng: Random): MergePlan | null {
  const means = pool.means();
  const survivors = paretoSurvivors(pool.fronts(), means);
  if (pool.size < 3 || survivors.length < 2) return null;
  for (let attempt = 0; attempt < PAIR_TRIES; attempt++) {
    const first = rng.pick(survivors);
    const second = rng.pick(survivors.filter((idx) => idx !== first));
    const [i, j] = first < second ? [first, second] : [second, first];
    const ancestorsOfI = pool.ancestors(i);
    const ancestorsOfJ = pool.ancestors(j);
    if (ancestorsOfJ.has(i) || ancestorsOfI.has(j)) continue;
    const eligible = [...ancestorsOfI]
      .filter((a) => ancestorsOfJ.has(a))
      .sort((a, b) => a - b)
      .filter((a) => !merge.tried.includes(`${i},${j},${a}`) && means[a]! <= means[i]! && means[a]! <= means[j]!)
      .filter((a) => hasOneSidedChange(pool.get(a).components, pool.get(i).components, pool.get(j).components));
    if (eligible.length === 0) continue;
    const ancestor = weightedPick(eligible, means, rng);
    merge.tried.push(`${i},${j},${ancestor}`);
    const child = combine(pool.get(ancestor).components, pool.get(i).components, pool.get(j).components, means[i]!, means[j]!, rng);
    const hash = candidateHash(child);
    if (merge.produced.includes(hash) || pool.findByHash(hash)) continue;
    merge.produced.push(hash);
    return { i, j, ancestor, child, hash };
  }
  return null;
}

/** True when some component differs between i and j and still equals the ancestor's on exactly one side. */
export function hasOneSidedChange(ancestor: Candidate, i: Candidate, j: Candidate): boolean {
  return Object.keys(ancestor).some((name) => i[name] !== j[name] && (i[name] === ancestor[name]) !== (j[name] === ancestor[name]));
}

/**
 * Per component: the side that changed from the ancestor; if both changed,
 * the side with the higher mean (a coin flip on a tie).
 */
export function combine(ancestor: Candidate, i: Candidate, j: Candidate, meanI: number, meanJ: number, rng: Random): Candidate {
  const child: Record<string, string> = {};
  for (const name of Object.keys(i)) {
    const left = i[name]!;
    const right = j[name]!;
    if (left === right || right === ancestor[name]) child[name] = left;
    else if (left === ancestor[name]) child[name] = right;
    else if (meanI !== meanJ) child[name] = meanI > meanJ ? left : right;
    else child[name] = rng.next() < 0.5 ? left : right;
  }
  return child;
}

/**
 * Up to `size` validation ids, drawn in turn from three strata: where i
 * scored higher, where j did, and ties, so the subsample shows both sides.
 */
export function stratifiedSubsample(valIds: readonly string[], scoresI: Record<string, number>, scoresJ: Record<string, number>, size: number, rng: Random): string[] {
  const strata: string[][] = [[], [], []];
  for (const id of valIds) {
    const a = scoresI[id] ?? 0;
    const b = scoresJ[id] ?? 0;
    strata[a > b ? 0 : b > a ? 1 : 2]!.push(id);
  }
  const shuffled = strata.map((stratum) => rng.shuffle(stratum));
  const picked: string[] = [];
  while (picked.length < Math.min(size, valIds.length)) {
    for (const stratum of shuffled) {
      const next = stratum.shift();
      if (next !== undefined && picked.length < size) picked.push(next);
    }
  }
  return picked;
}

/**
 * One merge iteration, or null when no merge can be found (the iteration
 * then goes on with a reflective proposal).
 */
export async function mergeStep<E>(context: StepContext<E>, iteration: number): Promise<StepRecord | StepStop | null> {
  const { pool, snapshot, data, options } = context;
  const rng = Random.fromState(snapshot.mergeRng);
  const plan = findMerge(pool, snapshot.merge, rng);
  if (!plan) {
    snapshot.mergeRng = rng.state();
    return null;
  }
  const { i, j, child, hash } = plan;
  const subsample = stratifiedSubsample(data.valIds, pool.get(i).valScores, pool.get(j).valScores, options.merge.subsample, rng);
  snapshot.mergeRng = rng.state();
  if (!affordable(context, iteration, data.valIds.length)) {
    return { stop: 'metric_calls', detail: `a merge could need ${data.valIds.length} metric calls, more than the budget has left` };
  }
  snapshot.merge.due -= 1;
  snapshot.merge.attempted += 1;

  const val = { split: 'val' as const, examples: data.val, iteration, candidate: child, hash };
  const results = await evaluateBatch(context.batch, { ...val, ids: subsample }, context.signal);
  const childScores = results.map((r) => r.score);
  const sumI = sum(subsample.map((id) => pool.get(i).valScores[id] ?? 0));
  const sumJ = sum(subsample.map((id) => pool.get(j).valScores[id] ?? 0));
  const childSum = sum(childScores);
  const detail = `merge of #${i} and #${j} (ancestor #${plan.ancestor}): ${childSum} vs ${Math.max(sumI, sumJ)} on [${subsample.join(', ')}]`;
  const base = { parentIdx: i, component: null, parentScores: null, childScores };
  if (childSum < Math.max(sumI, sumJ)) return { ...base, outcome: 'merge_rejected', detail };

  const validation = await evaluateBatch(context.batch, { ...val, ids: data.valIds }, context.signal);
  snapshot.merge.accepted += 1;
  snapshot.roundRobin[pool.size] = Math.max(snapshot.roundRobin[i] ?? 0, snapshot.roundRobin[j] ?? 0);
  return {
    ...base,
    outcome: 'merge_accepted',
    detail,
    added: { components: child, hash, parents: [i, j], origin: 'merge', description: `merge of #${i} and #${j}`, validation },
  };
}

function weightedPick(items: readonly number[], means: readonly number[], rng: Random): number {
  const total = items.reduce((acc, idx) => acc + Math.max(0, means[idx]!), 0);
  if (total <= 0) return rng.pick(items);
  let draw = rng.next() * total;
  for (const idx of items) {
    draw -= Math.max(0, means[idx]!);
    if (draw < 0) return idx;
  }
  return items[items.length - 1]!;
}
