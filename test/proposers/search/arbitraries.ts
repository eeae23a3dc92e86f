import fc from 'fast-check';
import type { Observation, ParamSpec, ParamValue, ParamValues, SearchSpace } from '../../../src/core/search-space.ts';

/** Valid float dimensions, linear or log, including very narrow and very wide ranges. */
const floatSpec: fc.Arbitrary<ParamSpec> = fc.oneof(
  fc
    .record({ low: fc.double({ min: -1e6, max: 1e6, noNaN: true }), span: fc.double({ min: 1e-9, max: 1e6, noNaN: true }) })
    .map(({ low, span }) => ({ type: 'float' as const, low, high: low + span }))
    .filter((spec) => spec.low < spec.high),
  fc
    .record({ low: fc.double({ min: 1e-8, max: 1e4, noNaN: true }), factor: fc.double({ min: 1.000001, max: 1e6, noNaN: true }) })
    .map(({ low, factor }) => ({ type: 'float' as const, low, high: low * factor, log: true }))
    .filter((spec) => spec.low < spec.high),
);

const intSpec: fc.Arbitrary<ParamSpec> = fc.oneof(
  fc
    .record({ low: fc.integer({ min: -1000, max: 1000 }), span: fc.integer({ min: 1, max: 2000 }) })
    .map(({ low, span }) => ({ type: 'int' as const, low, high: low + span })),
  fc
    .record({ low: fc.integer({ min: 1, max: 1000 }), span: fc.integer({ min: 1, max: 100_000 }) })
    .map(({ low, span }) => ({ type: 'int' as const, low, high: low + span, log: true })),
);

const choiceSpec: fc.Arbitrary<ParamSpec> = fc
  .uniqueArray(fc.oneof(fc.string({ maxLength: 4 }), fc.integer({ min: -100, max: 100 }), fc.boolean()), {
    minLength: 1,
    maxLength: 6,
    selector: (value) => JSON.stringify(value),
  })
  .map((values) => ({ type: 'choice' as const, values }));

export const paramSpec: fc.Arbitrary<ParamSpec> = fc.oneof(floatSpec, intSpec, choiceSpec);

export const searchSpace: fc.Arbitrary<SearchSpace> = fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9_]{0,7}$/), paramSpec, { minKeys: 1, maxKeys: 5 });

/** A value the spec accepts. */
export function validValue(spec: ParamSpec): fc.Arbitrary<ParamValue> {
  if (spec.type === 'choice') return fc.constantFrom(...spec.values);
  if (spec.type === 'int') return fc.integer({ min: spec.low, max: spec.high });
  return fc.double({ min: spec.low, max: spec.high, noNaN: true });
}

/** Mostly valid values, sometimes junk a resumed or edited study could hold. */
function storedValue(spec: ParamSpec): fc.Arbitrary<ParamValue | undefined> {
  return fc.oneof(
    { weight: 8, arbitrary: validValue(spec) },
    { weight: 1, arbitrary: fc.constantFrom<ParamValue | undefined>(undefined, 'stale', 1e12, -1e12, 0.5, true) },
  );
}

const loss: fc.Arbitrary<number | null> = fc.oneof(
  { weight: 8, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }) },
  { weight: 2, arbitrary: fc.constantFrom<number | null>(null, Number.NaN, Number.POSITIVE_INFINITY) },
);

/** Finished observations for a space, up to `maxLength` of them, with crashes and stale values mixed in. */
export function historyFor(space: SearchSpace, maxLength = 40): fc.Arbitrary<Observation[]> {
  const names = Object.keys(space);
  const params = fc.tuple(...names.map((name) => storedValue(space[name]!))).map((values) => {
    const result: ParamValues = {};
    names.forEach((name, i) => {
      const value = values[i];
      if (value !== undefined) result[name] = value;
    });
    return result;
  });
  return fc.array(fc.record({ params, loss }), { maxLength });
}

/**
 * The names that must be present in a proposal: every unconditional name,
 * then, until nothing changes, every name whose `when` parents are present
 * with an allowed value. Written apart from the code under test.
 */
export function expectedActive(space: SearchSpace, params: ParamValues): string[] {
  const active = new Set<string>();
  for (let changed = true; changed; ) {
    changed = false;
    for (const [name, spec] of Object.entries(space)) {
      if (active.has(name)) continue;
      const when = spec.when ?? {};
      const holds = Object.entries(when).every(([parent, allowed]) => active.has(parent) && (Array.isArray(allowed) ? allowed : [allowed]).includes(params[parent]!));
      if (holds) {
        active.add(name);
        changed = true;
      }
    }
  }
  return [...active].sort();
}

/** Independent check that a proposal fits the space exactly: the active names, each with a valid value. */
export function violations(space: SearchSpace, params: ParamValues): string[] {
  const problems: string[] = [];
  const expected = expectedActive(space, params);
  const actual = Object.keys(params).sort();
  if (JSON.stringify(expected) !== JSON.stringify(actual)) problems.push(`keys ${JSON.stringify(actual)} != ${JSON.stringify(expected)}`);
  for (const name of expected) {
    const spec = space[name]!;
    const value = params[name];
    if (spec.type === 'choice') {
      if (!spec.values.some((choice) => choice === value)) problems.push(`${name}=${JSON.stringify(value)} not among choices`);
      continue;
    }
    if (typeof value !== 'number' || !Number.isFinite(value)) problems.push(`${name}=${JSON.stringify(value)} is not a finite number`);
    else if (value < spec.low || value > spec.high) problems.push(`${name}=${value} outside [${spec.low}, ${spec.high}]`);
    else if (spec.type === 'int' && !Number.isInteger(value)) problems.push(`${name}=${value} is not an integer`);
  }
  return problems;
}

/**
 * Valid conditional spaces: a few unconditional parameters (at least one
 * choice), then parameters conditioned on earlier choices or ints, sometimes
 * two levels deep, with single values or lists.
 */
export const conditionalSpace: fc.Arbitrary<SearchSpace> = fc
  .record({
    roots: fc.uniqueArray(fc.oneof(fc.constantFrom('a', 'b', 'c')), { minLength: 1, maxLength: 3 }),
    choices: fc.array(fc.uniqueArray(fc.constantFrom<ParamValue>('x', 'y', 'z', 1, 2, true), { minLength: 2, maxLength: 3 }), { minLength: 3, maxLength: 3 }),
    children: fc.array(fc.record({ spec: fc.oneof(floatSpec, intSpec, choiceSpec), parent: fc.nat(10), pick: fc.nat(10), list: fc.boolean() }), { minLength: 1, maxLength: 5 }),
  })
  .map(({ roots, choices, children }) => {
    const space: Record<string, ParamSpec> = {};
    roots.forEach((name, i) => {
      space[name] = { type: 'choice', values: choices[i]! };
    });
    children.forEach(({ spec, parent, pick, list }, i) => {
      const parents = Object.keys(space).filter((name) => space[name]!.type !== 'float');
      const parentName = parents[parent % parents.length]!;
      const parentSpec = space[parentName]!;
      const values: ParamValue[] =
        parentSpec.type === 'choice' ? [...parentSpec.values] : parentSpec.type === 'int' ? [parentSpec.low, parentSpec.high] : [];
      const chosen = values[pick % values.length]!;
      space[`k${i}`] = { ...spec, when: { [parentName]: list ? values.slice(0, 1 + (pick % values.length)) : chosen } } as ParamSpec;
    });
    return space;
  });

/** Every point of a finite space (ints and choices only). */
export function allPoints(space: SearchSpace): ParamValues[] {
  let points: ParamValues[] = [{}];
  for (const [name, spec] of Object.entries(space)) {
    const values: ParamValue[] =
      spec.type === 'choice' ? [...spec.values] : spec.type === 'int' ? Array.from({ length: spec.high - spec.low + 1 }, (_, i) => spec.low + i) : [];
    points = points.flatMap((point) => values.map((value) => ({ ...point, [name]: value })));
  }
  return points;
}

/** Small finite spaces (at most a few dozen points) for exhaustion and avoid tests. */
export const smallFiniteSpace: fc.Arbitrary<SearchSpace> = fc.dictionary(
  fc.stringMatching(/^[a-z]{1,4}$/),
  fc.oneof(
    fc.record({ low: fc.integer({ min: -3, max: 3 }), span: fc.integer({ min: 1, max: 3 }) }).map(({ low, span }) => ({ type: 'int' as const, low, high: low + span }) as ParamSpec),
    fc.record({ low: fc.integer({ min: 1, max: 4 }), span: fc.integer({ min: 1, max: 3 }) }).map(({ low, span }) => ({ type: 'int' as const, low, high: low + span, log: true }) as ParamSpec),
    fc.uniqueArray(fc.constantFrom<ParamValue>('a', 'b', 'c', 1, 2, true, false), { minLength: 1, maxLength: 3 }).map((values) => ({ type: 'choice' as const, values }) as ParamSpec),
  ),
  { minKeys: 1, maxKeys: 3 },
);
