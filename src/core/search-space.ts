import type { ConfigIssue } from './errors.ts';

export type ParamValue = string | number | boolean;
export type ParamValues = Record<string, ParamValue>;

/**
 * When a parameter is active: every named parent must be active and hold one
 * of the listed values (a single value or a list). Parents are choice or int
 * parameters. `{ optimizer: sgd }` makes a momentum exist only for SGD.
 */
export type ParamCondition = Readonly<Record<string, ParamValue | readonly ParamValue[]>>;

/** A declared dimension of the search space (the `research.params` config). */
export type ParamSpec =
  | { type: 'float'; low: number; high: number; log?: boolean; when?: ParamCondition }
  | { type: 'int'; low: number; high: number; log?: boolean; when?: ParamCondition }
  | { type: 'choice'; values: readonly (string | number | boolean)[]; when?: ParamCondition };

export type SearchSpace = Readonly<Record<string, ParamSpec>>;

/**
 * One finished evaluation as a sampler sees it. `loss` is always minimized
 * (the caller negates maximized metrics); `null` means the trial produced no
 * usable metric (crash, timeout, invalid).
 */
export interface Observation {
  params: ParamValues;
  loss: number | null;
}

/** Canonical JSON of a parameter set (sorted keys), for duplicate detection. */
export function paramsKey(params: ParamValues): string {
  return JSON.stringify(Object.keys(params).sort().map((k) => [k, params[k]]));
}

/** Whether any parameter of the space has a `when` clause. */
export function isConditional(space: SearchSpace): boolean {
  return Object.values(space).some((spec) => spec.when !== undefined && Object.keys(spec.when).length > 0);
}

/** The values a condition allows for one parent, always as a list. */
export function allowedValues(allowed: ParamValue | readonly ParamValue[]): readonly ParamValue[] {
  return Array.isArray(allowed) ? allowed : [allowed as ParamValue];
}

/**
 * Parameter names with every parent before its children, ties in name order,
 * so sampling in this order always knows whether a parameter is active.
 * Assumes a space without cycles (see {@link conditionIssues}).
 *
 * @example
 * activationOrder({ momentum: { type: 'float', low: 0, high: 1, when: { opt: 'sgd' } }, opt: { type: 'choice', values: ['sgd', 'adam'] } });
 * // ['opt', 'momentum']
 */
export function activationOrder(space: SearchSpace): string[] {
  const names = Object.keys(space).sort();
  const placed = new Set<string>();
  const order: string[] = [];
  while (order.length < names.length) {
    const before = order.length;
    for (const name of names) {
      if (placed.has(name)) continue;
      const parents = Object.keys(space[name]!.when ?? {});
      if (parents.every((parent) => placed.has(parent) || !(parent in space))) {
        placed.add(name);
        order.push(name);
      }
    }
    // A cycle (rejected by validation): place the rest in name order rather than loop forever.
    if (order.length === before) for (const name of names) if (!placed.has(name)) (placed.add(name), order.push(name));
  }
  return order;
}

/**
 * Whether `name` is active given the values of its parents in `params`
 * (parents missing from `params` are inactive, so their children are too).
 *
 * @example
 * isActive(space, 'momentum', { opt: 'sgd' }); // true when momentum has when: { opt: sgd }
 */
export function isActive(space: SearchSpace, name: string, params: ParamValues): boolean {
  const when = space[name]?.when;
  if (when === undefined) return true;
  for (const [parent, allowed] of Object.entries(when)) {
    const value = params[parent];
    if (value === undefined || !allowedValues(allowed).includes(value)) return false;
  }
  return true;
}

/**
 * Build a parameter set in activation order, asking `draw` only for the
 * parameters that are active given the ones drawn before.
 *
 * @example
 * const params = drawActive(space, (name, spec) => drawRandomValue(spec, rng));
 */
export function drawActive(space: SearchSpace, draw: (name: string, spec: ParamSpec, partial: ParamValues) => ParamValue): ParamValues {
  const params: ParamValues = {};
  for (const name of activationOrder(space)) {
    if (isActive(space, name, params)) params[name] = draw(name, space[name]!, params);
  }
  return params;
}

/** The parameters of `params` that are active (in activation order), dropping the rest. */
export function activeOnly(space: SearchSpace, params: ParamValues): ParamValues {
  const active: ParamValues = {};
  for (const name of activationOrder(space)) {
    const value = params[name];
    if (value !== undefined && isActive(space, name, active)) active[name] = value;
  }
  return active;
}

/**
 * Every problem with the `when` clauses of a space, at dot paths under
 * `basePath`: a parent that is not a parameter, a float parent, a value the
 * parent cannot take, a parameter conditioned on itself, a cycle.
 *
 * @example
 * conditionIssues({ momentum: { type: 'float', low: 0, high: 1, when: { optimiser: 'sgd' } } });
 * // [{ path: 'research.params.momentum.when.optimiser', message: 'optimiser is not a parameter; ...' }]
 */
export function conditionIssues(space: SearchSpace, basePath = 'research.params'): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const known = Object.keys(space).sort();
  for (const name of known) {
    const when: unknown = space[name]?.when;
    if (when === undefined) continue;
    const at = `${basePath}.${name}.when`;
    if (typeof when !== 'object' || when === null || Array.isArray(when)) {
      issues.push({ path: at, message: `expected a map from parent parameter to its value(s), e.g. when: { optimizer: sgd }, got ${JSON.stringify(when)}` });
      continue;
    }
    for (const [parent, allowed] of Object.entries(when as Record<string, unknown>)) {
      const path = `${at}.${parent}`;
      const parentSpec = space[parent];
      if (parent === name) {
        issues.push({ path, message: `${name} cannot depend on itself; name another parameter` });
        continue;
      }
      if (parentSpec === undefined) {
        issues.push({ path, message: `${parent} is not a parameter; declare it under ${basePath} or use one of ${known.filter((other) => other !== name).join(', ') || '(none)'}` });
        continue;
      }
      if (parentSpec.type === 'float') {
        issues.push({ path, message: `${parent} is a float, and a condition needs values to compare exactly; make ${parent} a choice or an int` });
        continue;
      }
      const values = Array.isArray(allowed) ? (allowed as unknown[]) : [allowed];
      if (values.length === 0) issues.push({ path, message: `list at least one value of ${parent}` });
      values.forEach((value, index) => {
        const valuePath = Array.isArray(allowed) ? `${path}.${index}` : path;
        if (parentSpec.type === 'choice' && Array.isArray(parentSpec.values) && !parentSpec.values.some((choice) => choice === value)) {
          issues.push({ path: valuePath, message: `${JSON.stringify(value)} is not a value of ${parent}; use one of ${parentSpec.values.map((choice) => JSON.stringify(choice)).join(', ')}` });
        }
        if (parentSpec.type === 'int' && (typeof value !== 'number' || !Number.isInteger(value) || value < parentSpec.low || value > parentSpec.high)) {
          issues.push({ path: valuePath, message: `${JSON.stringify(value)} is not a value of ${parent}; use an integer in [${parentSpec.low}, ${parentSpec.high}]` });
        }
      });
    }
  }
  const cycle = findCycle(space);
  if (cycle !== undefined) {
    issues.push({ path: `${basePath}.${cycle[0]}.when`, message: `the conditions form a cycle (${cycle.join(' -> ')}); a parameter cannot depend on itself through others` });
  }
  return issues;
}

/** The first cycle of parent links, as names from a parameter back to itself. */
function findCycle(space: SearchSpace): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (name: string): string[] | undefined => {
    if (state.get(name) === 'done') return undefined;
    if (state.get(name) === 'visiting') return [...path.slice(path.indexOf(name)), name];
    state.set(name, 'visiting');
    path.push(name);
    const when = space[name]?.when;
    const parents = when !== null && typeof when === 'object' ? Object.keys(when).sort() : [];
    for (const parent of parents) {
      if (parent === name || !(parent in space)) continue;
      const found = visit(parent);
      if (found) return found;
    }
    path.pop();
    state.set(name, 'done');
    return undefined;
  };
  for (const name of Object.keys(space).sort()) {
    const found = visit(name);
    if (found) return found.reverse();
  }
  return undefined;
}
