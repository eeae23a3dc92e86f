import { describe, expect, it } from 'vitest';
import { probeOptuna } from '../../../bench/search-optuna-bridge.ts';
import { parseOptions, report, runBenchmark } from '../../../bench/search-vs-optuna.ts';

// A smoke run of bench/search-vs-optuna.ts: both sides on two small problems, a few trials.
// The benchmark itself (BENCHMARKS.md) is not a test. Without Optuna this is skipped with the
// reason in its title; in CI (CI=true, where .ci/run installs python3-optuna) it always runs.
const probe = probeOptuna(process.env.STRATA_OPTUNA_PYTHON);
const missing = 'unavailable' in probe ? probe.unavailable : undefined;

describe('bench/search-vs-optuna (smoke)', () => {
  it.skipIf(missing !== undefined && process.env.CI !== 'true')(
    `runs Strata's and Optuna's samplers side by side on the same functions${missing ? ` — skipped: ${missing}` : ''}`,
    async () => {
      const options = parseOptions(['--problems', '^f01-sphere-2d$,^mixed-conditional-optimizer$', '--seeds', '0:2', '--trials', '12', '--budgets', '12', '--strata', 'auto,random', '--optuna', 'tpe,random,cmaes']);
      const lines: string[] = [];
      const { records, optuna, skipped } = await runBenchmark(options, (line) => lines.push(line));
      expect(skipped).toBeUndefined();
      expect(optuna).toMatch(/^\d+\.\d+/);
      // CMA-ES only where the space is continuous.
      const runs = records.map((record) => `${record.problem} ${record.sampler}`).sort();
      expect(new Set(runs)).toEqual(
        new Set([
          'f01-sphere-2d optuna:cmaes',
          'f01-sphere-2d optuna:random',
          'f01-sphere-2d optuna:tpe',
          'f01-sphere-2d strata:auto',
          'f01-sphere-2d strata:random',
          'mixed-conditional-optimizer optuna:random',
          'mixed-conditional-optimizer optuna:tpe',
          'mixed-conditional-optimizer strata:auto',
          'mixed-conditional-optimizer strata:random',
        ]),
      );
      expect(records).toHaveLength(18);
      for (const record of records) {
        expect(record.trace).toHaveLength(12);
        for (let i = 1; i < 12; i++) expect(record.trace[i]!).toBeLessThanOrEqual(record.trace[i - 1]!);
        expect(record.trace[11]!).toBeGreaterThanOrEqual(1e-8);
      }
      const text = report(records, options, optuna, skipped);
      expect(text).toContain('strata auto / optuna tpe');
      expect(text).toMatch(/\| f01-sphere-2d \| 12 \|/);
    },
    120_000,
  );
});
