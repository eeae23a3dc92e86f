import { formatDuration, MAX_DURATION_MS, parseDuration } from '../duration.ts';
import { MAX_DURATION_TEXT } from './duration-schema.ts';
import type { ConfigIssue } from '../errors.ts';
import { conditionIssues, type SearchSpace } from '../search-space.ts';
import { normalizeExecutor, normalizeFidelity, type ExecutorConfig, type FidelityConfig } from './executor-config.ts';
import type { ResearchSection } from './research-schema.ts';
import { normalizeTrust, type TrustConfig } from './trust-config.ts';

/** The research section after normalization: durations in ms, defaults filled in. */
export interface ResearchConfig extends TrustConfig {
  editable: string[];
  protected: string[];
  run: string;
  budgetMs: number;
  graceMs: number;
  metric: {
    name: string;
    goal: 'minimize' | 'maximize';
    pattern?: string;
    secondary: SecondaryMetric[];
    /** A value outside is suspect and never kept. */
    validRange?: [number, number];
    /** An improvement on the best by more than this factor in one step is suspect until a rerun confirms it. */
    maxImprovementFactor?: number;
  };
  /** Bounds on metrics; a trial outside them is invalid. Empty: none. */
  constraints: MetricConstraint[];
  params: SearchSpace;
  proposer: 'search' | 'agent' | 'command';
  search: SearchSettings;
  /** The agent's settings (used by proposer: agent and command). */
  agent: AgentSettings;
  maxTrials?: number;
  maxTimeMs?: number;
  env: Record<string, string>;
  /** Where trials run and how many at once (one local slot when absent). */
  executor: ExecutorConfig;
  /** Screening at a short budget before the full one; absent = every candidate runs at the full budget. */
  fidelity?: FidelityConfig;
}

/** How the search proposer samples (`research.search`). */
export interface SearchSettings {
  sampler: 'auto' | 'gp' | 'tpe' | 'random';
  seed?: number;
  startupTrials?: number;
  /** tpe: joint estimators per group of parameters (default true). */
  multivariate?: boolean;
  /** An earlier study's name in this ledger, or a results.tsv path relative to the config file. */
  warmStart?: string;
}

/** A metric recorded beside the main one (`metric.secondary`). Without a pattern it is read from `METRIC <name>=<n>` or `<name>: <n>` lines. */
export interface SecondaryMetric {
  name: string;
  pattern?: string;
}

/** One entry of `research.constraints`: at least one bound. */
export interface MetricConstraint {
  metric: string;
  min?: number;
  max?: number;
}

/** How the research agent (proposer: agent or command) works. */
export interface AgentSettings {
  /** program.md relative to the config's folder; undefined = the built-in template. */
  program?: string;
  editFormat: 'tools' | 'search-replace' | 'whole-file';
  maxFixAttempts: number;
  command?: string;
  timeoutMs: number;
  maxSteps: number;
  promptTokens: number;
  historyTrials: number;
}

export const DEFAULT_AGENT_TIMEOUT_MS = 20 * 60_000;

/** Durations were checked by the schema; here they only change unit. */
function duration(value: string | number | undefined): number | undefined {
  return value === undefined ? undefined : (parseDuration(value) ?? undefined);
}

/** Default grace: 10% of the budget or 5 s, whichever is larger. */
export function defaultGraceMs(budgetMs: number): number {
  return Math.max(5000, Math.round(budgetMs * 0.1));
}

/** Normalize the research section and check the rules that span several keys. */
export function normalizeResearch(section: ResearchSection, issues: ConfigIssue[]): ResearchConfig {
  const budgetMs = duration(section.budget) ?? 0;
  const graceMs = duration(section.grace) ?? defaultGraceMs(budgetMs);
  const maxTimeMs = duration(section.max_time);
  const params = section.params ?? {};
  const fidelity = normalizeFidelity(section.fidelity, { budgetMs, explicitGraceMs: duration(section.grace), defaultGrace: defaultGraceMs }, issues);
  // The kill timer waits budget + grace: each is checked on its own by the schema, their sum here.
  if (budgetMs <= MAX_DURATION_MS && graceMs <= MAX_DURATION_MS && budgetMs + graceMs > MAX_DURATION_MS) {
    issues.push({
      path: section.grace === undefined ? 'research.budget' : 'research.grace',
      message: `budget + grace (${formatDuration(budgetMs)} + ${formatDuration(graceMs)}${section.grace === undefined ? ', the default 10%' : ''}) must be at most ${MAX_DURATION_TEXT}`,
    });
  }

  for (const [name, spec] of Object.entries(params)) {
    const at = `research.params.${name}`;
    if (spec.type === 'choice') continue;
    if (!(spec.low < spec.high)) issues.push({ path: `${at}.low`, message: `must be below high (${spec.high}), got ${spec.low}` });
    if (spec.log && spec.low <= 0) issues.push({ path: `${at}.low`, message: `must be > 0 on a log scale, got ${spec.low}` });
  }
  issues.push(...conditionIssues(params, 'research.params'));
  if (section.proposer === 'search' && Object.keys(params).length === 0) {
    issues.push({ path: 'research.params', message: 'the search proposer needs a search space: declare at least one parameter' });
  }
  for (const glob of [...section.editable, ...section.protected]) {
    if (glob.startsWith('/') || glob.split('/').includes('..')) {
      issues.push({ path: 'research.editable', message: `globs are relative to the repository, got ${JSON.stringify(glob)}` });
    }
  }
  if (section.proposer === 'command' && !section.agent_command) {
    issues.push({ path: 'research.agent_command', message: 'proposer: command needs the agent to run, e.g. agent_command: "claude -p --permission-mode acceptEdits"' });
  }
  const secondary = normalizeSecondary(section.metric, issues);
  const constraints = normalizeConstraints(section, secondary, issues);
  const overlap = section.editable.filter((glob) => section.protected.includes(glob));
  if (overlap.length > 0) {
    issues.push({ path: 'research.protected', message: `${overlap.join(', ')} cannot be both editable and protected` });
  }

  return {
    editable: section.editable,
    protected: section.protected,
    run: section.run,
    budgetMs,
    graceMs,
    metric: {
      name: section.metric.name,
      goal: section.metric.goal,
      ...(section.metric.pattern !== undefined ? { pattern: section.metric.pattern } : {}),
      secondary,
      ...(section.metric.valid_range !== undefined ? { validRange: section.metric.valid_range } : {}),
      ...(section.metric.max_improvement_factor !== undefined ? { maxImprovementFactor: section.metric.max_improvement_factor } : {}),
    },
    constraints,
    params,
    proposer: section.proposer,
    search: {
      sampler: section.search?.sampler ?? 'auto',
      ...(section.search?.seed !== undefined ? { seed: section.search.seed } : {}),
      ...(section.search?.startup_trials !== undefined ? { startupTrials: section.search.startup_trials } : {}),
      ...(section.search?.multivariate !== undefined ? { multivariate: section.search.multivariate } : {}),
      ...(section.search?.warm_start !== undefined ? { warmStart: section.search.warm_start } : {}),
    },
    agent: {
      ...(section.program !== undefined ? { program: section.program } : {}),
      editFormat: section.edit_format ?? 'tools',
      maxFixAttempts: section.max_fix_attempts ?? 2,
      ...(section.agent_command !== undefined ? { command: section.agent_command } : {}),
      timeoutMs: duration(section.agent_timeout) ?? DEFAULT_AGENT_TIMEOUT_MS,
      maxSteps: section.agent_max_steps ?? 30,
      promptTokens: section.prompt_tokens ?? 32_000,
      historyTrials: section.history_trials ?? 12,
    },
    ...(section.max_trials !== undefined ? { maxTrials: section.max_trials } : {}),
    ...(maxTimeMs !== undefined ? { maxTimeMs } : {}),
    env: section.env ?? {},
    // The search proposer answers in milliseconds; one at a time, each proposal sees the parameters of the one before.
    executor: normalizeExecutor(section.executor, issues, section.proposer === 'search' ? { concurrentProposals: 1 } : { speculate: true }),
    ...(fidelity ? { fidelity } : {}),
    ...normalizeTrust(section, { budgetMs, defaultGrace: defaultGraceMs }, issues),
  };
}

function normalizeSecondary(metric: ResearchSection['metric'], issues: ConfigIssue[]): SecondaryMetric[] {
  const secondary = (metric.secondary ?? []).map((entry) => (typeof entry === 'string' ? { name: entry } : { ...entry }));
  const seen = new Set<string>([metric.name]);
  secondary.forEach((entry, index) => {
    if (seen.has(entry.name)) {
      const what = entry.name === metric.name ? 'is the main metric' : 'is listed twice';
      issues.push({ path: `research.metric.secondary.${index}`, message: `${entry.name} ${what}` });
    }
    seen.add(entry.name);
  });
  return secondary;
}

/** Constraints name metrics the study reads, and each has a bound that can be met. */
function normalizeConstraints(section: ResearchSection, secondary: SecondaryMetric[], issues: ConfigIssue[]): MetricConstraint[] {
  const known = new Set([section.metric.name, ...secondary.map((entry) => entry.name)]);
  const constraints: MetricConstraint[] = [];
  for (const [metric, bounds] of Object.entries(section.constraints ?? {})) {
    const at = `research.constraints.${metric}`;
    if (!known.has(metric)) issues.push({ path: at, message: `${metric} is not a metric of this study: add it to research.metric.secondary` });
    if (bounds.min === undefined && bounds.max === undefined) issues.push({ path: at, message: 'give min, max or both' });
    if (bounds.min !== undefined && bounds.max !== undefined && !(bounds.min <= bounds.max)) {
      issues.push({ path: `${at}.min`, message: `must not be above max (${bounds.max}), got ${bounds.min}` });
    }
    constraints.push({ metric, ...(bounds.min !== undefined ? { min: bounds.min } : {}), ...(bounds.max !== undefined ? { max: bounds.max } : {}) });
  }
  return constraints;
}
