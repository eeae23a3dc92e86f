import type { SlurmConfig } from '../../core/config/executor-config.ts';

/** Quote a string for POSIX sh: `it's` → `'it'\''s'`. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** The last line a job script prints into the job's log: a log that lacks it after the script ran to its end was cut short (a full disk on the node). */
export const END_OF_LOG_LINE = 'strata: end of the trial output';

/** Does a job's log text end with the script's last line? */
export function logIsComplete(text: string): boolean {
  return text.trimEnd().split('\n').at(-1)?.startsWith(END_OF_LOG_LINE) ?? false;
}

/**
 * The batch script of one trial. It runs the trial's command (kept in its own
 * file, so no quoting of user text is needed) under GNU `timeout` at exactly
 * budget + grace, then SIGKILL `killAfterMs` later; SLURM's own `--time` is
 * only a backstop with a margin. It leaves an exit record,
 * `<statusDir>/<job id>.status`, with start and end times taken on the node:
 * the exit code survives even where SLURM keeps no accounting, and the
 * record tells a restarted orchestrator how a job it did not see end ended.
 * Its last line in the log is {@link END_OF_LOG_LINE}, so a log cut short
 * by the node's file system is noticed.
 *
 * @example
 * writeFileSync(path, jobScript({ cwd, commandFile, budgetMs: 300_000, graceMs: 30_000, killAfterMs: 3000, statusDir }));
 */
export function jobScript(input: { cwd: string; commandFile: string; budgetMs: number; graceMs: number; killAfterMs: number; statusDir: string }): string {
  const limit = `${(input.budgetMs + input.graceMs) / 1000}s`;
  const killAfter = `${Math.max(1, Math.ceil(input.killAfterMs / 1000))}s`;
  return `#!/bin/sh
# A Strata trial. The exact budget is enforced here; SLURM's --time is a backstop.
status=${shellQuote(input.statusDir)}/"$SLURM_JOB_ID".status
echo "started $(date +%s%3N)" >> "$status"
cd ${shellQuote(input.cwd)} || { echo "exit 97 $(date +%s%3N) no-cwd" >> "$status"; exit 97; }
timeout --signal=TERM --kill-after=${killAfter} ${limit} /bin/sh ${shellQuote(input.commandFile)}
code=$?
echo "${END_OF_LOG_LINE} (exit $code)"
echo "exit $code $(date +%s%3N)" >> "$status"
exit $code
`;
}

/** The exit record a job script leaves. */
export interface ExitRecord {
  startedMs: number | null;
  exitCode: number | null;
  endedMs: number | null;
}

/** Parse an exit record; the last start and the last exit win (a requeued job writes twice). */
export function parseExitRecord(text: string): ExitRecord {
  const record: ExitRecord = { startedMs: null, exitCode: null, endedMs: null };
  for (const line of text.split('\n')) {
    const [word, first, second] = line.trim().split(/\s+/);
    if (word === 'started' && first) record.startedMs = Number(first);
    if (word === 'exit' && first) {
      record.exitCode = Number(first);
      record.endedMs = second ? Number(second) : null;
    }
  }
  return record;
}

/** `--time` in whole minutes: budget + grace + margin, rounded up, at least one minute. */
export function timeLimitMinutes(budgetMs: number, graceMs: number, marginMs: number): number {
  return Math.max(1, Math.ceil((budgetMs + graceMs + marginMs) / 60_000));
}

/**
 * The sbatch arguments of one trial, from `research.executor.slurm`.
 *
 * @example
 * sbatchArguments({ slurm, jobName: 'strata-tiny-lm-12', logPath, cwd, budgetMs, graceMs, scriptPath });
 */
export function sbatchArguments(input: { slurm: SlurmConfig; jobName: string; logPath: string; cwd: string; budgetMs: number; graceMs: number; scriptPath: string }): string[] {
  const { slurm } = input;
  const args = [
    '--parsable',
    `--job-name=${input.jobName}`,
    `--output=${input.logPath}`,
    '--open-mode=append',
    `--chdir=${input.cwd}`,
    `--time=${timeLimitMinutes(input.budgetMs, input.graceMs, slurm.timeMarginMs)}`,
    // Strata decides about requeues itself (once after a node failure), so the ledger knows each run.
    '--no-requeue',
    '--nodes=1',
    '--ntasks=1',
  ];
  if (slurm.gpusPerTrial > 0) args.push(`--gres=gpu:${slurm.gpuType ? `${slurm.gpuType}:` : ''}${slurm.gpusPerTrial}`);
  if (slurm.partition) args.push(`--partition=${slurm.partition}`);
  if (slurm.account) args.push(`--account=${slurm.account}`);
  if (slurm.qos) args.push(`--qos=${slurm.qos}`);
  if (slurm.cpusPerTask) args.push(`--cpus-per-task=${slurm.cpusPerTask}`);
  if (slurm.mem) args.push(`--mem=${slurm.mem}`);
  args.push(...slurm.extraArgs, input.scriptPath);
  return args;
}
