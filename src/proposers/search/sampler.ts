import { ConfigError, type ConfigIssue } from '../../core/errors.ts';
import type { Random } from '../../core/random.ts';
import { conditionIssues, type Observation, type ParamValues, type SearchSpace } from '../../core/search-space.ts';

/** The samplers a study can name in `research.search.sampler`, and the ones that make proposals. */
export type SamplerName = 'auto' | 'gp' | 'tpe' | 'random';

/** What a sampler gets for one proposal. */
export interface SampleRequest {
  space: SearchSpace;
  /** Finished observations, oldest first (loss minimized; null = crashed or no metric). */
  history: readonly Observation[];
  /** Parameter sets proposed and still running on other slots: proposals keep away from them. */
  pending?: readonly ParamValues[];
  rng: Random;
  /** Keys (paramsKey) that must not be proposed: in flight, already run, crashed. */
  avoid?: ReadonlySet<string>;
}

/** One proposal and who made it (for `auto`: the sampler it picked). */
export interface SampleResult {
  /** Only the active parameters of a conditional space. */
  params: ParamValues;
  sampler: Exclude<SamplerName, 'auto'>;
  /** True while the sampler still draws its space-filling or random start. */
  startup: boolean;
}

/**
 * A strategy that proposes the next parameter set from a study's history.
 * Implementations are pure given their inputs: the same request and
 * generator state give the same proposal, so a resumed study replays.
 *
 * @example
 * const sampler: Sampler = new TpeSampler();
 * const { params } = sampler.sample({ space, history, rng: Random.fromSeed(7), avoid: new Set(inFlightKeys) });
 */
export interface Sampler {
  readonly name: SamplerName;
  sample(request: SampleRequest): SampleResult;
}

/**
 * Every problem with a search space, each at a dot path under `basePath`.
 * An empty list means the space is usable by every sampler.
 *
 * @example
 * validateSearchSpace({ lr: { type: 'float', low: 0, high: 1, log: true } });
 * // [{ path: 'research.params.lr.low', message: 'a log-scaled dimension needs low > 0, got 0; ...' }]
 */
export function validateSearchSpace(space: SearchSpace, basePath = 'research.params'): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const [name, spec] of Object.entries(space)) {
    const path = `${basePath}.${name}`;
    if (typeof spec !== 'object' || spec === null) {
      issues.push({ path, message: `expected a parameter like { type: float, low: 0, high: 1 }, got ${JSON.stringify(spec)}` });
      continue;
    }
    // Configs arrive from YAML, so the union's tag is checked even though the type promises it.
    const type: string = (spec as { type?: unknown }).type as string;
    if (type === 'choice') {
      const values = (spec as { values?: unknown }).values;
      if (!Array.isArray(values) || values.length === 0) {
        issues.push({ path: `${path}.values`, message: 'a choice needs at least one value; list them, e.g. values: [32, 64, 128]' });
        continue;
      }
      const seen = new Set<string>();
      values.forEach((value: unknown, index: number) => {
        if (!['string', 'number', 'boolean'].includes(typeof value) || (typeof value === 'number' && !Number.isFinite(value))) {
          issues.push({ path: `${path}.values.${index}`, message: `choice values must be strings, finite numbers or booleans, got ${JSON.stringify(value)}` });
          return;
        }
        const key = JSON.stringify(value);
        if (seen.has(key)) issues.push({ path: `${path}.values.${index}`, message: `duplicate choice value ${key}; list each value once` });
        seen.add(key);
      });
      continue;
    }
    if (type !== 'float' && type !== 'int') {
      issues.push({ path: `${path}.type`, message: `unknown parameter type ${JSON.stringify(type)}; use float, int or choice` });
      continue;
    }
    const { low, high, log } = spec as { low: unknown; high: unknown; log?: unknown };
    let boundsUsable = true;
    for (const [field, value] of [['low', low], ['high', high]] as const) {
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        issues.push({ path: `${path}.${field}`, message: `expected a finite number, got ${JSON.stringify(value)}` });
        boundsUsable = false;
      } else if (type === 'int' && !Number.isInteger(value)) {
        issues.push({ path: `${path}.${field}`, message: `an int dimension needs integer bounds, got ${value}; use ${field === 'low' ? Math.ceil(value) : Math.floor(value)} or make it a float` });
        boundsUsable = false;
      }
    }
    if (log !== undefined && typeof log !== 'boolean') {
      issues.push({ path: `${path}.log`, message: `expected true or false, got ${JSON.stringify(log)}` });
    }
    if (!boundsUsable) continue;
    const lowNumber = low as number;
    const highNumber = high as number;
    if (lowNumber >= highNumber) {
      issues.push({ path: `${path}.low`, message: `low must be below high, got low ${lowNumber} >= high ${highNumber}; to fix a value, use a choice with one value` });
    }
    if (log === true && lowNumber <= 0) {
      issues.push({ path: `${path}.low`, message: `a log-scaled dimension needs low > 0, got ${lowNumber}; raise low or set log: false` });
    }
  }
  if (Object.values(space).every((spec) => typeof spec === 'object' && spec !== null)) issues.push(...conditionIssues(space, basePath));
  return issues;
}

/**
 * Throw a {@link ConfigError} listing every problem if the space is unusable.
 *
 * @example
 * assertValidSearchSpace(space); // throws ConfigError (code 'config_invalid') or returns
 */
export function assertValidSearchSpace(space: SearchSpace, basePath = 'research.params'): void {
  const issues = validateSearchSpace(space, basePath);
  if (issues.length > 0) throw new ConfigError(issues);
}

/** Parameter names in a fixed order, so proposals do not depend on the config's key order. */
export function orderedNames(space: SearchSpace): string[] {
  return Object.keys(space).sort();
}
