import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { ConfigError, type ConfigIssue } from '../errors.ts';
import { normalizeEvolve, type EvolveConfig } from './evolve-config.ts';
import { normalizeLlm, type LlmConfig } from './llm-config.ts';
import { evolvePauseOnProblems, normalizeOversight, type OversightConfig } from './oversight-config.ts';
import { normalizeResearch, type ResearchConfig } from './research-config.ts';
import { configSchema, type RawConfig } from './schema.ts';
import { STUDY_NAME_PATTERN } from './study-name.ts';

/** A validated, normalized strata.yaml. */
export interface StudyConfig {
  name: string;
  research?: ResearchConfig;
  evolve?: EvolveConfig;
  llm?: LlmConfig;
  /** `oversight:` (pause_on, notify); no pauses and no notifications when the file has none. */
  oversight: OversightConfig;
  /** The validated file as written (snake_case keys), kept for the ledger. */
  raw: RawConfig;
  /** Defaults chosen from the rest of the file rather than the schema's, each a line to show the user when the run starts. */
  notes?: string[];
}

/**
 * Read → schema → normalize → rules. Every problem is reported at once, each
 * with its dot path, in one ConfigError.
 *
 * @example
 * const config = parseConfig(readFileSync('strata.yaml', 'utf8'), 'strata.yaml');
 */
export function parseConfig(text: string, file?: string): StudyConfig {
  let data: unknown;
  try {
    data = parseYaml(text, { prettyErrors: true });
  } catch (error) {
    if (error instanceof YAMLParseError) throw new ConfigError([{ path: '', message: `not valid YAML: ${error.message}` }], file);
    throw error;
  }
  return validateConfig(data, file);
}

/** Validate an already-parsed config object (from YAML, JSON, or code). */
export function validateConfig(data: unknown, file?: string): StudyConfig {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError([{ path: '', message: 'expected a mapping with at least `name:` and a `research:` or `evolve:` section' }], file);
  }
  const result = configSchema.safeParse(data);
  if (!result.success) throw new ConfigError(result.error.issues.flatMap((issue) => describeIssue(issue, data)), file);
  const raw = result.data;
  const issues: ConfigIssue[] = [];
  const notes = pipelineDefaults(raw, data);
  if (!raw.research && !raw.evolve && !raw.pipeline) issues.push({ path: 'research', message: 'missing: add a `research:` or an `evolve:` section (see `strata init`)' });
  const research = raw.research ? normalizeResearch(raw.research, issues) : undefined;
  const llm = raw.llm ? normalizeLlm(raw.llm, issues) : undefined;
  const evolve = raw.evolve ? normalizeEvolve(raw.evolve, llm, issues) : undefined;
  if (research?.proposer === 'agent' && !llm) {
    issues.push({ path: 'llm', message: 'proposer: agent needs a model: add an `llm:` section, e.g. llm: {model: anthropic:claude-sonnet-4-5}' });
  }
  const oversight = normalizeOversight(raw.oversight);
  // A file with a research section too is checked when `strata evolve` runs it: there diff_lines means something.
  if (evolve && !research) for (const problem of evolvePauseOnProblems(oversight.pauseOn, evolve.data.test !== undefined)) issues.push({ path: `oversight.pause_on.${problem.condition}`, message: problem.message });
  if (issues.length > 0) throw new ConfigError(issues, file);
  return { name: raw.name, ...(research ? { research } : {}), ...(evolve ? { evolve } : {}), ...(llm ? { llm } : {}), oversight, raw, ...(notes.length > 0 ? { notes } : {}) };
}

/**
 * A pipeline that evolves the research program (an evolve stage scored by
 * the research evaluator) hands that program to its research stages, and only
 * an agent follows a program: there `research.proposer` defaults to agent,
 * not search, unless the file sets it. Applied to `raw`, which every stage's
 * config is built from; returns the note saying so.
 */
function pipelineDefaults(raw: RawConfig, data: object): string[] {
  const written = (data as { research?: { proposer?: unknown } }).research?.proposer;
  if (!raw.research || written !== undefined || !raw.pipeline?.some((stage) => stage.evolve?.evaluator?.kind === 'research')) return [];
  raw.research.proposer = 'agent';
  return ['research.proposer is agent: this pipeline evolves the research program, and only an agent follows one (set research.proposer to choose another)'];
}

function describeIssue(issue: z.core.$ZodIssue, data: unknown): ConfigIssue[] {
  const path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeysAt(issue.path);
    return issue.keys.map((key) => {
      const near = closest(key, known);
      return {
        path: path ? `${path}.${key}` : key,
        message: `unknown key${near ? ` (did you mean "${near}"?)` : ''}; a typo here must not silently change the study`,
      };
    });
  }
  const value = valueAt(data, issue.path);
  if (issue.code === 'invalid_type' && value === undefined) return [{ path, message: `missing (expected ${issue.expected})` }];
  // The study-name rule quotes the name itself (shortened when long).
  if (issue.code === 'invalid_format' && issue.pattern === String(STUDY_NAME_PATTERN)) return [{ path, message: issue.message }];
  // YAML reads 1e400 and .inf as Infinity, .nan as NaN: zod calls them "not a number" and JSON writes them as null.
  if (typeof value === 'number' && !Number.isFinite(value)) {
    return [{ path, message: `expected a finite number, got ${Number.isNaN(value) ? 'NaN' : `${value} (beyond the range of numbers; write the limit you mean)`}` }];
  }
  const got = value === undefined ? '' : `, got ${JSON.stringify(value)}`;
  return [{ path, message: `${issue.message}${got}` }];
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let cursor: unknown = data;
  for (const key of path) {
    if (cursor === null || typeof cursor !== 'object') return undefined;
    cursor = (cursor as Record<PropertyKey, unknown>)[key];
  }
  return cursor;
}

function knownKeysAt(path: readonly PropertyKey[]): string[] {
  let schema: unknown = configSchema;
  for (const key of path) {
    // An array index: unwrapping the array below already led to its element's schema.
    if (typeof key === 'number') continue;
    if (schema === undefined) return [];
    const shape = (schema as { shape?: Record<string, unknown> }).shape;
    let next = shape?.[String(key)];
    while (next && typeof next === 'object' && 'unwrap' in next && typeof (next as { unwrap: unknown }).unwrap === 'function') {
      next = (next as { unwrap: () => unknown }).unwrap();
    }
    schema = next;
  }
  const shape = (schema as { shape?: Record<string, unknown> } | undefined)?.shape;
  return shape ? Object.keys(shape) : [];
}

function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}
