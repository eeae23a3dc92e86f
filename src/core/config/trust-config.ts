import { parseDuration } from '../duration.ts';
import type { ConfigIssue } from '../errors.ts';
import type { z } from 'zod';
import type { acceptanceSchema, agentSandboxSchema, limitsSchema } from './trust-schema.ts';

/** research.acceptance after normalization. */
export interface AcceptanceConfig {
  /** The rule named in the file; undefined = the study's default (noise-aware for new studies). */
  rule?: 'noise-aware' | 'strict' | 'threshold';
  baselineRepeats: number;
  minDelta: number;
  confidence: number;
  confirmRepeats: number;
  /** Candidate decisions between reruns of the incumbent; 0 = never. */
  recheckEvery: number;
}

/** A stage run after `run`: evaluate or holdout. */
export interface StageConfig {
  command: string;
  budgetMs: number;
  graceMs: number;
}

/** The keys of `research:` that make results trustworthy, normalized. */
export interface TrustConfig {
  acceptance: AcceptanceConfig;
  evaluate?: StageConfig & { code: 'pristine' | 'candidate' };
  holdout?: StageConfig;
  /** As written: relative to the config file's folder, or absolute. */
  holdoutData: string[];
  sandbox: {
    network: 'on' | 'off';
    limits: { memoryBytes?: number; processes?: number };
    /** env_passthrough: names or `*` globs. */
    envPassthrough: string[];
    /** sandbox_readable and sandbox_writable, as written. */
    readable: string[];
    writable: string[];
  };
  /** The command proposer's agent: network on by default; more writable folders and variables. */
  agentSandbox: { network: 'on' | 'off'; writable: string[]; envPassthrough: string[] };
}

export const ACCEPTANCE_DEFAULTS = { baselineRepeats: 1, minDelta: 0, confidence: 0.95, confirmRepeats: 4, recheckEvery: 10 } as const;

interface TrustSection {
  metric: { valid_range?: [number, number] | undefined };
  evaluate?: string;
  evaluate_budget?: string | number;
  evaluate_code?: 'pristine' | 'candidate';
  holdout?: string;
  holdout_data?: string[];
  acceptance?: z.infer<typeof acceptanceSchema>;
  network?: 'on' | 'off';
  limits?: z.infer<typeof limitsSchema>;
  env_passthrough?: string[];
  sandbox_readable?: string[];
  sandbox_writable?: string[];
  agent_sandbox?: z.infer<typeof agentSandboxSchema>;
}

/**
 * Normalize the trust keys of a research section. `budgetMs` and
 * `defaultGrace` are the trial's, used when a stage has no budget of its own.
 */
export function normalizeTrust(section: TrustSection, context: { budgetMs: number; defaultGrace: (budgetMs: number) => number }, issues: ConfigIssue[]): TrustConfig {
  const acceptance = section.acceptance ?? {};
  const evaluateBudget = section.evaluate_budget === undefined ? context.budgetMs : (parseDuration(section.evaluate_budget) ?? context.budgetMs);
  if (section.evaluate === undefined && section.evaluate_budget !== undefined) issues.push({ path: 'research.evaluate_budget', message: 'set research.evaluate too: there is no evaluate stage to budget' });
  if (section.evaluate === undefined && section.evaluate_code !== undefined) issues.push({ path: 'research.evaluate_code', message: 'set research.evaluate too: there is no evaluate stage' });
  if (section.holdout === undefined && section.holdout_data !== undefined) issues.push({ path: 'research.holdout_data', message: 'set research.holdout too: only the holdout stage may read this data' });
  if (acceptance.rule !== 'noise-aware' && acceptance.rule !== undefined) {
    for (const key of ['baseline_repeats', 'confidence', 'confirm_repeats'] as const) {
      if (acceptance[key] !== undefined) issues.push({ path: `research.acceptance.${key}`, message: `only used by rule: noise-aware, but the rule is ${acceptance.rule}` });
    }
  }
  if (acceptance.rule === 'strict' && acceptance.min_delta !== undefined && acceptance.min_delta > 0) {
    issues.push({ path: 'research.acceptance.min_delta', message: 'strict keeps any improvement; use rule: threshold for a minimum improvement' });
  }
  const range = section.metric.valid_range;
  if (range && !(range[0] < range[1])) issues.push({ path: 'research.metric.valid_range', message: `low must be below high, got [${range[0]}, ${range[1]}]` });
  const memoryBytes = section.limits?.memory === undefined ? undefined : parseMemorySize(section.limits.memory);
  if (memoryBytes !== undefined && memoryBytes < 16 * 2 ** 20) issues.push({ path: 'research.limits.memory', message: `at least 16MiB, got ${section.limits?.memory}` });
  return {
    acceptance: {
      ...(acceptance.rule !== undefined ? { rule: acceptance.rule } : {}),
      baselineRepeats: acceptance.baseline_repeats ?? ACCEPTANCE_DEFAULTS.baselineRepeats,
      minDelta: acceptance.min_delta ?? ACCEPTANCE_DEFAULTS.minDelta,
      confidence: acceptance.confidence ?? ACCEPTANCE_DEFAULTS.confidence,
      confirmRepeats: acceptance.confirm_repeats ?? ACCEPTANCE_DEFAULTS.confirmRepeats,
      recheckEvery: acceptance.recheck_every ?? ACCEPTANCE_DEFAULTS.recheckEvery,
    },
    ...(section.evaluate !== undefined
      ? { evaluate: { command: section.evaluate, budgetMs: evaluateBudget, graceMs: context.defaultGrace(evaluateBudget), code: section.evaluate_code ?? 'pristine' } }
      : {}),
    ...(section.holdout !== undefined ? { holdout: { command: section.holdout, budgetMs: evaluateBudget, graceMs: context.defaultGrace(evaluateBudget) } } : {}),
    holdoutData: section.holdout_data ?? [],
    sandbox: {
      network: section.network ?? 'on',
      limits: { ...(memoryBytes !== undefined ? { memoryBytes } : {}), ...(section.limits?.processes !== undefined ? { processes: section.limits.processes } : {}) },
      envPassthrough: section.env_passthrough ?? [],
      readable: section.sandbox_readable ?? [],
      writable: section.sandbox_writable ?? [],
    },
    agentSandbox: {
      network: section.agent_sandbox?.network ?? 'on',
      writable: section.agent_sandbox?.writable ?? [],
      envPassthrough: section.agent_sandbox?.env_passthrough ?? [],
    },
  };
}

/**
 * Bytes in a memory size; binary units either way (`8G` = `8GiB`), as
 * `ulimit`, SLURM and cgroups read them.
 *
 * @example
 * parseMemorySize('512MiB'); // 536870912
 */
export function parseMemorySize(value: string | number): number {
  if (typeof value === 'number') return value;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(i?B?)\s*$/i.exec(value);
  if (!match) return Number.NaN;
  const power = { '': 0, K: 1, M: 2, G: 3, T: 4 }[match[2]!.toUpperCase() as '' | 'K' | 'M' | 'G' | 'T'];
  return Math.round(Number(match[1]) * 1024 ** power);
}
