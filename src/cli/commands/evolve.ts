import { relative } from 'node:path';
import { safeJson, terminalLine } from '../../core/terminal-text.ts';
import { runEvolveStudy } from '../../evolve/run-evolve-study.ts';
import { createEvolveReporter } from '../evolve-reporter.ts';
import { palette } from '../format.ts';
import { loadConfig } from '../load-config.ts';

export interface EvolveCommandOptions {
  config: string;
  cwd: string;
  json?: boolean;
  signal?: AbortSignal;
  out?: NodeJS.WritableStream;
  /** Environment for API keys (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/**
 * `strata evolve [--config strata.yaml] [--json]`: run or resume the evolve
 * study, print progress, write the best components to
 * `.strata/<study>/best/<component>.txt`. Exit code 0 when the study ended or
 * was stopped, 1 when a model stayed unavailable, 130 after Ctrl-C.
 */
export async function evolveCommand(options: EvolveCommandOptions): Promise<number> {
  const out = options.out ?? process.stdout;
  const { path, config } = loadConfig(options.config, options.cwd, 'evolve');
  const budget = config.evolve?.budget;
  const reporter = options.json ? undefined : createEvolveReporter(out, { study: config.name, metricCalls: budget?.metricCalls ?? null, usd: budget?.usd ?? null });
  const run = await runEvolveStudy({
    configPath: path,
    config,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(reporter ? { onProgress: reporter } : {}),
    ...(options.env ? { env: options.env } : {}),
  });
  const { result } = run;
  const seed = result.pool[0]!;
  const bestDir = relative(options.cwd, run.bestDir) || run.bestDir;
  if (options.json) {
    out.write(
      // The components are model output: escaped so a terminal showing the JSON acts on none of it.
      `${safeJson(
        {
          study: result.studyName,
          stop_reason: result.stopReason,
          stop_detail: result.stopDetail,
          best: { idx: result.best.idx, val_mean: result.best.valMean, parents: result.best.parents, components: result.bestCandidate },
          seed_val_mean: seed.valMean,
          test: result.test,
          iterations: result.budget.iterations,
          metric_calls: result.budget.metricCalls,
          usd: result.budget.usd,
          proposals: result.proposals,
          pool: result.pool.map((c) => ({ idx: c.idx, parents: c.parents, origin: c.origin, val_mean: c.valMean })),
          best_dir: bestDir,
          warnings: result.warnings,
        },
        2,
      )}\n`,
    );
  } else {
    const colors = palette(out);
    const test = result.test ? ` · test ${result.test.best.toFixed(3)} (seed ${result.test.seed.toFixed(3)}, n=${result.test.n})` : '';
    out.write(`${colors.bold(`best #${result.best.idx}`)}: val ${result.best.valMean.toFixed(3)} (seed ${seed.valMean.toFixed(3)})${test}\n`);
    out.write(`  ${result.budget.iterations} iterations · ${result.proposals.accepted} accepted, ${result.proposals.rejected} rejected · ${result.budget.metricCalls} metric calls · $${result.budget.usd.toFixed(4)}\n`);
    out.write(`  best components: ${bestDir}/\n`);
    for (const warning of result.warnings) out.write(colors.yellow(`  warning: ${terminalLine(warning)}\n`));
  }
  if (result.stopReason === 'interrupted') return 130;
  return result.stopReason === 'llm_unavailable' ? 1 : 0;
}
