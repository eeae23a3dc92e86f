/**
 * `${<stage>.best.<attribute>}` in a stage's config: what an earlier stage
 * found, resolved when the stage starts. Only this exact shape is a
 * reference, so shell variables such as `${STRATA_SEED}` in a `run:` line
 * pass through untouched.
 */
const REFERENCE = /\$\{([a-z0-9][a-z0-9_-]*)\.best\.([A-Za-z_][\w-]*)\}/g;

/** One reference found in a config value. */
export interface StageReference {
  /** As written, e.g. `${explore.best.program}`. */
  text: string;
  stage: string;
  /** `commit`, `metric`, `score`, or a component name. */
  attribute: string;
}

/**
 * Every reference in a string.
 *
 * @example
 * findReferences('${explore.best.program}'); // [{ text: '${explore.best.program}', stage: 'explore', attribute: 'program' }]
 */
export function findReferences(value: string): StageReference[] {
  return [...value.matchAll(REFERENCE)].map((match) => ({ text: match[0], stage: match[1]!, attribute: match[2]! }));
}

/** True when the whole string is one reference (a file-valued key then gets a file holding the value). */
export function isWholeReference(value: string): boolean {
  const found = findReferences(value);
  return found.length === 1 && found[0]!.text === value.trim();
}

/** Replace every reference in a string by what `lookup` returns for it. */
export function substituteReferences(value: string, lookup: (reference: StageReference) => string): string {
  return value.replace(REFERENCE, (text: string, stage: string, attribute: string) => lookup({ text, stage, attribute }));
}

/**
 * Visit every string of a JSON-like value with its dot path, returning a copy
 * where each string is replaced by what `visit` returns.
 *
 * @example
 * mapStrings({ env: { A: 'x' } }, 'research', (value, path) => value.toUpperCase()); // { env: { A: 'X' } }
 */
export function mapStrings(value: unknown, path: string, visit: (value: string, path: string) => string): unknown {
  if (typeof value === 'string') return visit(value, path);
  if (Array.isArray(value)) return value.map((item, index) => mapStrings(item, `${path}.${index}`, visit));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, mapStrings(item, `${path}.${key}`, visit)]));
  }
  return value;
}
