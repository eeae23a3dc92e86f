import { safeJson } from '../../core/terminal-text.ts';
import { finalizeStudy } from '../../verify/finalize-study.ts';
import { StudyStateError } from '../../core/errors.ts';
import { loadConfig } from '../load-config.ts';
import { describeComparison, renderVerify } from '../verify-view.ts';
import { verifyObserver, verifySettings } from './verify.ts';

export interface FinalizeCommandOptions {
  config: string;
  cwd: string;
  study?: string;
  branch?: string;
  /** Run a verify first when the study has none finished of its current best (`--verify`), with `--repeats`. */
  verify?: boolean;
  repeats?: string;
  json?: boolean;
  signal?: AbortSignal;
  out?: NodeJS.WritableStream;
}

/** `strata finalize`: a branch with the needed changes, its tree verified again, and a pull-request summary; `--verify` runs the verify it needs first. */
export async function finalizeCommand(options: FinalizeCommandOptions): Promise<number> {
  const out = options.out ?? process.stdout;
  const { path, config } = loadConfig(options.config, options.cwd, 'research');
  const studyConfig = options.study ? { ...config, name: options.study } : config;
  const metric = studyConfig.research!.metric.name;
  if (options.repeats !== undefined && !options.verify) throw new StudyStateError('--repeats goes with --verify (finalize re-verifies with the settings of the verify it builds on)');
  const settings = verifySettings({ ...(options.repeats !== undefined ? { repeats: options.repeats } : {}) });
  const result = await finalizeStudy({
    configPath: path,
    config: studyConfig,
    ...(options.branch ? { branch: options.branch } : {}),
    ...(options.verify
      ? {
          verifyFirst: {
            repeats: settings.repeats,
            ...(options.json ? {} : { observer: verifyObserver(out, studyConfig, undefined), onResult: (verified) => out.write(`\n${renderVerify(verified, metric)}\n\n`) }),
          },
        }
      : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.json
      ? {}
      : {
          observer: {
            planned: ({ plan, left }) => out.write(`finalize: ${plan.arms.length} arms × ${plan.repeats} runs to verify the final tree, ${left} to run\n`),
            runFinished: ({ done, total, arm, trial }) => out.write(`[${String(done).padStart(String(total).length)}/${total}] #${trial.seq} ${arm.label}: ${trial.metric !== null && trial.status === 'discard' ? `${metric}=${trial.metric}` : trial.status}\n`),
          },
        }),
  });
  if (options.json) {
    out.write(`${safeJson({ branch: result.branch, commit: result.commit, included: result.included.map((item) => item.change.seq), left_out: result.leftOut.map((item) => item.change.seq), final_vs_baseline: result.check.overall, summary: result.summaryPath }, 2)}\n`);
    return result.summaryPath === null ? 1 : 0;
  }
  out.write(`\nkept: ${result.included.map((item) => `#${item.change.seq}`).join(', ')}; left out: ${result.leftOut.map((item) => `#${item.change.seq}`).join(', ') || 'none'}\n`);
  out.write(`final branch vs baseline: ${describeComparison(result.check.overall)}\n`);
  if (result.summaryPath === null) {
    out.write('the final tree is not verified yet: run strata finalize again to finish; the branch is written once it is\n');
    return 1;
  }
  out.write(`branch ${result.branch} at ${result.commit.slice(0, 12)}; pull-request summary: ${result.summaryPath}\n`);
  return 0;
}
