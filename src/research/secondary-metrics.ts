import type { SecondaryMetric } from '../core/config/research-config.ts';
import { compilePattern, parseMetricNumber } from '../executors/metric-parser.ts';

/**
 * Read the study's secondary metrics (`research.metric.secondary`) from a
 * trial's output. Without a pattern a metric `name` is read from lines
 * `METRIC name=<number>` or `name: <number>` (the summary autoresearch's
 * train.py prints, e.g. `peak_vram_mb:     45060.2`); the last line wins, as
 * for the main metric. A metric that is absent or not a number is left out.
 *
 * @example
 * readSecondaryMetrics('val_bpb: 1.1\npeak_vram_mb:   812.5\n', [{ name: 'peak_vram_mb' }]); // { peak_vram_mb: 812.5 }
 */
export function readSecondaryMetrics(output: string, secondary: readonly SecondaryMetric[]): Record<string, number> {
  const found: Record<string, number> = {};
  if (secondary.length === 0) return found;
  const readers = secondary.map((metric) => ({ name: metric.name, patterns: patternsFor(metric) }));
  for (const line of output.split(/\r\n|\r|\n/)) {
    for (const reader of readers) {
      for (const pattern of reader.patterns) {
        const captured = pattern.exec(line)?.[1];
        if (captured === undefined) continue;
        const value = parseMetricNumber(captured.trim());
        // The last line wins: an unreadable later value erases an earlier one rather than leaving it standing.
        if (value === null || !Number.isFinite(value)) delete found[reader.name];
        else found[reader.name] = value;
      }
    }
  }
  return found;
}

function patternsFor(metric: SecondaryMetric): RegExp[] {
  if (metric.pattern !== undefined) return [compilePattern(metric.pattern)];
  const name = metric.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return [new RegExp(`^METRIC[ \\t]+${name}[ \\t]*=[ \\t]*(\\S+)`), new RegExp(`^${name}:[ \\t]*(\\S+)[ \\t]*$`)];
}
