import { Random } from '../core/random.ts';
import { BatchSampler } from './batch-sampler.ts';
import { evaluateBatch } from './batch-evaluator.ts';
import { candidateHash } from './content-hash.ts';
import { affordable, sum, type StepContext, type StepRecord, type StepStop } from './engine-context.ts';
import { selectParent } from './parent-selectors.ts';
import type { RejectedAttempt } from './reflection-prompt.ts';

const REJECTED_KEPT = 5;
const EXCERPT_CHARS = 300;

/**
 * One reflective proposal: select a parent, take a minibatch, evaluate the
 * parent with traces, ask the reflection model to rewrite a component from
 * the feedback, evaluate the child on the same minibatch, and accept it
 * (then validate it fully) if it does better.
 */
export async function reflectiveStep<E>(context: StepContext<E>, iteration: number): Promise<StepRecord | StepStop> {
  const { options, pool, snapshot, data } = context;
  const selectorRng = Random.fromState(snapshot.selectorRng);
  const parentIdx = selectParent(
    options.selector,
    { pool: pool.scoredCandidates(), frontier: options.frontier, fronts: pool.fronts(), means: pool.means(), epsilon: options.epsilon, topK: options.topK },
    selectorRng,
  );
  snapshot.selectorRng = selectorRng.state();
  const sampler = BatchSampler.fromState(snapshot.sampler);
  const ids = sampler.next(data.trainIds, options.minibatchSize);
  snapshot.sampler = sampler.state();
  const parent = pool.get(parentIdx);

  // Reserve the worst case before spending anything: parent minibatch (less what was cached before), child minibatch, child validation.
  const parentUncached = ids.filter((id) => !context.cache.cachedBefore(parent.hash, 'train', id, iteration)).length;
  const worstCase = parentUncached + ids.length + data.valIds.length;
  if (!affordable(context, iteration, worstCase)) {
    return { stop: 'metric_calls', detail: `the next proposal could need ${worstCase} metric calls, more than the budget has left` };
  }

  const train = { examples: data.train, split: 'train' as const, ids, iteration };
  const parentResults = await evaluateBatch(context.batch, { ...train, candidate: parent.components, hash: parent.hash }, context.signal);
  const parentScores = parentResults.map((r) => r.score);
  const base = { parentIdx, parentScores, childScores: null };
  if (options.skipPerfect && parentScores.every((score) => score >= options.perfectScore)) {
    return { ...base, outcome: 'skipped_perfect', component: null, detail: `#${parentIdx} is already perfect on the minibatch` };
  }

  const names = Object.keys(parent.components);
  let chosen: string[];
  if (options.componentSelector === 'all') chosen = names;
  else {
    const pointer = snapshot.roundRobin[parentIdx] ?? 0;
    chosen = [names[pointer % names.length]!];
    snapshot.roundRobin[parentIdx] = pointer + 1;
  }

  const child: Record<string, string> = { ...parent.components };
  const failures: string[] = [];
  const rejectedBefore = snapshot.rejected[parentIdx] ?? [];
  for (const name of chosen) {
    const records = ids.map((id, i) => context.reflectiveRecord(data.train.get(id)!, parentResults[i]!, name));
    const outcome = await context.reflector.reflect({
      iteration,
      parentIdx,
      component: name,
      currentText: parent.components[name]!,
      records,
      rejected: rejectedBefore.filter((attempt) => attempt.component === name),
      signal: context.signal,
    });
    if ('text' in outcome) child[name] = outcome.text;
    else failures.push(`${name}: ${outcome.reasons.join('; ')}`);
  }
  const changed = chosen.filter((name) => child[name] !== parent.components[name]);
  const component = chosen.join(',');
  if (changed.length === 0) return { ...base, outcome: 'reflection_failed', component, detail: failures.join(' | ') };

  const hash = candidateHash(child);
  const twin = pool.findByHash(hash);
  if (twin) {
    remember(context, parentIdx, changed, child, `identical to candidate #${twin.idx}`);
    return { ...base, outcome: 'duplicate', component, detail: `the rewrite equals candidate #${twin.idx}` };
  }

  const childResults = await evaluateBatch(context.batch, { ...train, candidate: child, hash }, context.signal);
  const childScores = childResults.map((r) => r.score);
  const parentSum = sum(parentScores);
  const childSum = sum(childScores);
  const accepted = options.acceptance === 'strict' ? childSum > parentSum : childSum >= parentSum;
  const versus = `${fmt(childSum)} vs parent ${fmt(parentSum)} on minibatch [${ids.join(', ')}]`;
  if (!accepted) {
    remember(context, parentIdx, changed, child, `scored ${versus}`);
    return { ...base, childScores, outcome: 'rejected', component, detail: versus };
  }

  const validation = await evaluateBatch(
    context.batch,
    { candidate: child, hash, split: 'val', ids: data.valIds, examples: data.val, iteration },
    context.signal,
  );
  // The child continues the parent's round-robin; it will get the next pool index.
  snapshot.roundRobin[pool.size] = snapshot.roundRobin[parentIdx] ?? 0;
  snapshot.merge.lastIterationAccepted = true;
  if (options.merge.enabled && snapshot.merge.accepted + snapshot.merge.due < options.merge.maxMerges) snapshot.merge.due += 1;
  return {
    ...base,
    childScores,
    outcome: 'accepted',
    component,
    detail: versus,
    added: { components: child, hash, parents: [parentIdx], origin: 'reflective', description: `rewrote ${changed.join(', ')} of #${parentIdx}`, validation },
  };
}

/** Keep the last few turned-down rewrites of a parent, to tell the reflector next time. */
function remember<E>(context: StepContext<E>, parentIdx: number, changed: string[], child: Record<string, string>, reason: string): void {
  const list: RejectedAttempt[] = context.snapshot.rejected[parentIdx] ?? [];
  for (const name of changed) list.push({ component: name, excerpt: child[name]!.slice(0, EXCERPT_CHARS), reason });
  context.snapshot.rejected[parentIdx] = list.slice(-REJECTED_KEPT);
}

function fmt(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(3);
}
