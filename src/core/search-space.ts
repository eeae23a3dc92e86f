/** A declared dimension of the search space (the `research.params` config). */
export type ParamSpec =
  | { type: 'float'; low: number; high: number; log?: boolean }
  | { type: 'int'; low: number; high: number; log?: boolean }
  | { type: 'choice'; values: readonly (string | number | boolean)[] };

export type SearchSpace = Readonly<Record<string, ParamSpec>>;

export type ParamValue = string | number | boolean;
export type ParamValues = Record<string, ParamValue>;

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
