import { activationOrder, allowedValues, type SearchSpace } from '../../core/search-space.ts';

/**
 * The parameters split into groups that are always active together: the
 * unconditional ones form one group, and parameters whose `when` clauses
 * allow the same values of the same parents form another. Groups come
 * parents first (a group's parents belong to earlier groups), names in
 * activation order within a group.
 *
 * Optuna finds such groups from the trials' parameter sets (`group=True`);
 * the space already says which parameters appear together, so this needs no
 * history and gives the same groups from the first model-based proposal on.
 *
 * @example
 * conditionGroups({ opt: { type: 'choice', values: ['sgd', 'adam'] }, lr: { type: 'float', low: 1e-4, high: 1, log: true }, momentum: { type: 'float', low: 0, high: 1, when: { opt: 'sgd' } } });
 * // [['lr', 'opt'], ['momentum']]
 */
export function conditionGroups(space: SearchSpace): string[][] {
  const groups = new Map<string, string[]>();
  for (const name of activationOrder(space)) {
    const key = conditionKey(space, name);
    const group = groups.get(key);
    if (group) group.push(name);
    else groups.set(key, [name]);
  }
  // Map keeps insertion order: a group appears where its first member does in activation order,
  // after every parent of that member, so after the parents' groups.
  return [...groups.values()];
}

/** Canonical form of a parameter's `when`: parents sorted, allowed values sorted by their JSON. */
function conditionKey(space: SearchSpace, name: string): string {
  const when = space[name]!.when ?? {};
  return JSON.stringify(
    Object.keys(when)
      .sort()
      .map((parent) => [parent, allowedValues(when[parent]!).map((value) => JSON.stringify(value)).sort()]),
  );
}
