import type { ExecutionResult } from '../core/executor.ts';
import { parseMetrics } from '../executors/metric-parser.ts';
import { brokenConstraints, constraintReason } from './metric-constraints.ts';
import type { OpenedStudy } from './open-study.ts';
import { readSecondaryMetrics } from './secondary-metrics.ts';

/** What one finished run measured, or why it measured nothing usable. */
export type Measurement =
  | { ok: true; metric: number; metrics: Record<string, number> | null }
  | { ok: false; status: 'crash' | 'timeout' | 'interrupted' | 'invalid'; reason: string; metric: number | null; metrics: Record<string, number> | null };

/**
 * Read the study's metric out of one run (or evaluate stage) the way the
 * research loop judges a trial: exit code, a metric line, a finite value,
 * the constraints on secondary metrics.
 *
 * @example
 * const measured = measureRun(opened, result, { budgetMs: 300_000, graceMs: 30_000 });
 * if (measured.ok) samples.push(measured.metric);
 */
export function measureRun(opened: OpenedStudy, run: ExecutionResult, limits: { budgetMs: number; graceMs: number }): Measurement {
  const { metric, constraints } = opened.research;
  if (run.status === 'interrupted') return { ok: false, status: 'interrupted', reason: 'stopped by the user', metric: null, metrics: null };
  if (run.status === 'timeout') return { ok: false, status: 'timeout', reason: `killed at budget + grace (${(limits.budgetMs + limits.graceMs) / 1000}s)`, metric: null, metrics: null };
  if (run.status === 'spawn_error') return { ok: false, status: 'crash', reason: `could not start: ${run.error ?? 'unknown error'}`, metric: null, metrics: null };
  const parsed = parseMetrics(run.output, { name: metric.name, ...(metric.pattern !== undefined ? { pattern: metric.pattern } : {}) });
  const found = { ...parsed.metrics, ...readSecondaryMetrics(run.output, metric.secondary) };
  const metrics = Object.keys(found).length > 0 ? found : null;
  if (run.exitCode !== 0) return { ok: false, status: 'crash', reason: `exit code ${run.exitCode ?? run.signal}`, metric: null, metrics };
  if (parsed.primary === null) {
    const detail = parsed.problems[0] ?? (metric.pattern ? `no line matched ${metric.pattern}` : `no line "METRIC ${metric.name}=<number>"`);
    return { ok: false, status: 'crash', reason: `no metric: ${detail}`, metric: null, metrics };
  }
  if (!Number.isFinite(parsed.primary)) return { ok: false, status: 'crash', reason: `metric is ${parsed.primary}`, metric: parsed.primary, metrics };
  const broken = brokenConstraints(found, constraints);
  if (broken.length > 0) return { ok: false, status: 'invalid', reason: constraintReason(broken), metric: parsed.primary, metrics };
  return { ok: true, metric: parsed.primary, metrics };
}
