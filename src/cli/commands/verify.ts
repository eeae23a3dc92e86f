import { formatDuration, parseDuration } from '../../core/duration.ts';
import { StudyStateError } from '../../core/errors.ts';
import { safeJson, terminalLine } from '../../core/terminal-text.ts';
import type { StudyConfig } from '../../core/config/parse-config.ts';
import { runVerify, type VerifyObserver } from '../../verify/run-verify.ts';
import { loadConfig } from '../load-config.ts';
import { renderVerify } from '../verify-view.ts';

export interface VerifyCommandOptions {
  config: string;
  cwd: string;
  study?: string;
  repeats?: string;
  maxTime?: string;
  budget?: string;
  env?: readonly string[];
  json?: boolean;
  signal?: AbortSignal;
  out?: NodeJS.WritableStream;
}

/** `strata verify`: measure the baseline, the best and the best without each kept change, interleaved; report intervals. */
export async function verifyCommand(options: VerifyCommandOptions): Promise<number> {
  const out = options.out ?? process.stdout;
  const settings = verifySettings(options);
  const { path, config } = loadConfig(options.config, options.cwd, 'research');
  const studyConfig = options.study ? { ...config, name: options.study } : config;
  const metric = studyConfig.research!.metric.name;
  const result = await runVerify({
    configPath: path,
    config: studyConfig,
    repeats: settings.repeats,
    ...(settings.maxTimeMs !== undefined ? { maxTimeMs: settings.maxTimeMs } : {}),
    budgetFactor: settings.budgetFactor,
    env: settings.env,
    ...(options.signal ? { signal: options.signal } : {}),
    observer: options.json ? {} : verifyObserver(out, studyConfig, settings.maxTimeMs),
  });
  if (options.json) {
    out.write(`${safeJson(result, 2)}\n`);
  } else {
    out.write(`\n${renderVerify(result, metric)}\n`);
    if (result.plan.finished === null) out.write(`\n${result.runs.done} of ${result.runs.planned} runs done${result.stopped ? ` (${result.stopped})` : ''}: run strata verify again to finish (the figures above are partial)\n`);
    else out.write(`\n${result.runs.done} runs, ${formatDuration(result.runs.wallMs)} of run time; next: strata finalize\n`);
  }
  // Unfinished is not success: `strata verify && strata finalize` must not go on to a finalize that has nothing finished to build on.
  return result.plan.finished === null ? 1 : 0;
}

/** --repeats, --max-time, --budget 2x, --env K=V, each checked with a message that names the fix. */
export function verifySettings(options: Pick<VerifyCommandOptions, 'repeats' | 'maxTime' | 'budget' | 'env'>): { repeats: number; maxTimeMs?: number; budgetFactor: number; env: Record<string, string> } {
  const repeats = options.repeats === undefined ? 5 : Number(options.repeats);
  if (!Number.isInteger(repeats) || repeats < 2 || repeats > 100) throw new StudyStateError(`--repeats must be an integer from 2 to 100 (each arm needs two runs for an interval), got ${options.repeats}`);
  const maxTimeMs = options.maxTime === undefined ? undefined : parseDuration(options.maxTime);
  if (maxTimeMs === null) throw new StudyStateError(`--max-time must be a duration like 2h or 30m, got ${options.maxTime}`);
  const factor = options.budget === undefined ? 1 : Number(options.budget.replace(/x$/i, ''));
  if (!(factor > 0 && factor <= 100)) throw new StudyStateError(`--budget must be a multiple of research.budget like 2x or 0.5x, got ${options.budget}`);
  const env: Record<string, string> = {};
  for (const item of options.env ?? []) {
    const at = item.indexOf('=');
    if (at <= 0) throw new StudyStateError(`--env must be KEY=VALUE, got ${item}`);
    if (item.startsWith('STRATA_')) throw new StudyStateError(`--env cannot set ${item.slice(0, at)}: strata sets the STRATA_* variables of every run itself`);
    env[item.slice(0, at)] = item.slice(at + 1);
  }
  return { repeats, ...(maxTimeMs !== undefined ? { maxTimeMs } : {}), budgetFactor: factor, env };
}

/** The plan and each run as lines of text (strata verify, and strata finalize --verify). */
export function verifyObserver(out: NodeJS.WritableStream, studyConfig: StudyConfig, maxTimeMs: number | undefined): VerifyObserver {
  const metric = studyConfig.research!.metric.name;
  return {
    planned: ({ plan, left, estimateMs, resumed, fits, conflicts }) => {
      out.write(
        `verify ${studyConfig.name}${resumed ? ' (resumed)' : ''}: ${plan.arms.length} arms × ${plan.repeats} runs = ${plan.arms.length * plan.repeats} runs, ${left} to run, about ${formatDuration(estimateMs)}` +
          `${plan.budgetMs !== studyConfig.research!.budgetMs ? ` at budget ${formatDuration(plan.budgetMs)}` : ''}${Object.keys(plan.env).length > 0 ? ` with ${Object.entries(plan.env).map(([k, v]) => `${k}=${v}`).join(' ')}` : ''}\n`,
      );
      if (fits < left && maxTimeMs !== undefined) {
        out.write(`  --max-time ${formatDuration(maxTimeMs)}: about ${fits} of the ${left} runs fit; it stops before a run that would end later, and strata verify again resumes\n`);
      }
      for (const conflict of conflicts) out.write(`  conflict: #${conflict.seq} cannot be left out of the best: ${terminalLine(conflict.message)}\n`);
    },
    runFinished: ({ done, total, arm, trial }) => {
      const value = trial.status === 'discard' && trial.metric !== null ? `${metric}=${trial.metric}` : `${trial.status}${trial.statusReason ? `: ${terminalLine(trial.statusReason)}` : ''}`;
      out.write(`[${String(done).padStart(String(total).length)}/${total}] #${trial.seq} ${arm.label}: ${value}\n`);
    },
  };
}
