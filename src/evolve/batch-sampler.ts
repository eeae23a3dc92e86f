import type { BatchSamplerState } from '../core/evolve-state.ts';
import { Random } from '../core/random.ts';
import { jsonHash } from './content-hash.ts';

export type { BatchSamplerState } from '../core/evolve-state.ts';

/**
 * Minibatches from an epoch-shuffled order: each epoch shuffles every id with
 * the sampler's own seeded generator and pads the order to a multiple of the
 * batch size with the least-used ids (not already in the final batch), so
 * every example is seen once per epoch and batches are always full.
 *
 * @example
 * const sampler = BatchSampler.create(7);
 * sampler.next(['a', 'b', 'c', 'd'], 3); // e.g. ['c', 'a', 'd']
 * const saved = sampler.state();         // resume with BatchSampler.fromState(saved)
 */
export class BatchSampler {
  private current: BatchSamplerState;

  private constructor(state: BatchSamplerState) {
    this.current = state;
  }

  static create(seed: number | string): BatchSampler {
    return new BatchSampler({ rng: Random.fromSeed(seed).state(), order: [], position: 0, epoch: 0, usage: {}, idsKey: '' });
  }

  static fromState(state: BatchSamplerState): BatchSampler {
    return new BatchSampler(structuredClone(state));
  }

  state(): BatchSamplerState {
    return structuredClone(this.current);
  }

  /** The next minibatch of `size` ids (fewer only when there are fewer ids). */
  next(ids: readonly string[], size: number): string[] {
    if (ids.length === 0) throw new RangeError('cannot sample a minibatch from an empty training set');
    const batch = Math.min(size, ids.length);
    const key = idsKeyOf(ids);
    const s = this.current;
    if (s.idsKey !== key || s.order.length === 0 || (s.position + 1) * batch > s.order.length) this.refresh(ids, batch, key);
    const start = s.position * batch;
    const picked = s.order.slice(start, start + batch);
    s.position += 1;
    for (const id of picked) s.usage[id] = (s.usage[id] ?? 0) + 1;
    return picked;
  }

  private refresh(ids: readonly string[], batch: number, key: string): void {
    const s = this.current;
    const rng = Random.fromState(s.rng);
    const order = rng.shuffle(ids);
    const missing = (batch - (order.length % batch)) % batch;
    if (missing > 0) {
      const tail = new Set(order.slice(order.length - (order.length % batch)));
      const rank = new Map(order.map((id, i) => [id, i]));
      const pads = order
        .filter((id) => !tail.has(id))
        .sort((a, b) => (s.usage[a] ?? 0) - (s.usage[b] ?? 0) || rank.get(a)! - rank.get(b)!)
        .slice(0, missing);
      order.push(...pads);
    }
    s.rng = rng.state();
    s.order = order;
    s.position = 0;
    s.epoch = s.idsKey === '' ? 0 : s.epoch + 1;
    s.idsKey = key;
  }
}

function idsKeyOf(ids: readonly string[]): string {
  return jsonHash(ids);
}
