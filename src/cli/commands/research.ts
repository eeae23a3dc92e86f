import { safeJson } from '../../core/terminal-text.ts';
import { runResearch } from '../../research/run-research.ts';
import { loadConfig } from '../load-config.ts';
import { createResearchReporter } from '../research-reporter.ts';

export interface ResearchCommandOptions {
  config: string;
  cwd: string;
  json?: boolean;
  signal?: AbortSignal;
  out?: NodeJS.WritableStream;
}

/** `strata research`: run or resume the study in the config until its budget ends or Ctrl-C. Returns the exit code. */
export async function researchCommand(options: ResearchCommandOptions): Promise<number> {
  const out = options.out ?? process.stdout;
  const { path, config } = loadConfig(options.config, options.cwd, 'research');
  const research = config.research!;
  const reporter = options.json ? undefined : createResearchReporter(out, { goal: research.metric.goal, metric: research.metric.name });
  try {
    const summary = await runResearch({ configPath: path, config, ...(options.signal ? { signal: options.signal } : {}), ...(reporter ? { observer: reporter } : {}) });
    if (options.json) out.write(`${safeJson(summary, 2)}\n`);
    return summary.study.state === 'failed' ? 1 : 0;
  } finally {
    reporter?.close();
  }
}
