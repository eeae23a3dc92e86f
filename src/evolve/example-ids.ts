import { ConfigError } from '../core/errors.ts';
import { jsonHash } from './content-hash.ts';

/**
 * Stable ids for a dataset: an example's own `id` field when it has one
 * (string or number), else a hash of its content. Ids key the cache and the
 * Pareto fronts, so duplicates are refused.
 *
 * @example
 * exampleIds([{ id: 't1', input: '…' }, { input: 'x' }], 'train'); // ['t1', 'c-9b2e…']
 */
export function exampleIds(examples: readonly unknown[], split: string): string[] {
  const ids = examples.map((example) => {
    const own = example !== null && typeof example === 'object' ? (example as { id?: unknown }).id : undefined;
    return typeof own === 'string' || typeof own === 'number' ? String(own) : `c-${jsonHash(example)}`;
  });
  const seen = new Map<string, number>();
  ids.forEach((id, index) => {
    const first = seen.get(id);
    if (first !== undefined) {
      throw new ConfigError([{ path: `${split}[${index}]`, message: `duplicate example id "${id}" (also at ${split}[${first}]); ids must be unique within a split` }]);
    }
    seen.set(id, index);
  });
  return ids;
}
