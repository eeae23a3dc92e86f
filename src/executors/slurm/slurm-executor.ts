import { mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { SlurmConfig } from '../../core/config/executor-config.ts';
import type { ExecutionRequest, ExecutionResult, Executor } from '../../core/executor.ts';
import { TrialLogError } from '../../core/errors.ts';
import { lastLines } from '../run-process.ts';
import { explainWriteFailure, fileSystemOf } from '../storage-failure.ts';
import { isActiveState, parseMaxRssKb, parseSacctJob, parseScontrolJob, type JobInfo } from './job-state.ts';
import { jobScript, logIsComplete, parseExitRecord, sbatchArguments, type ExitRecord } from './job-script.ts';
import { slurmCommand, SlurmError } from './slurm-cli.ts';

export interface SlurmExecutorOptions {
  slurm: SlurmConfig;
  /** A folder the nodes can write (under the shared dir): job scripts, command files, exit records. */
  jobDir: string;
  /** Job names are `<prefix>-<trial id>`, so `squeue -u $USER` shows what runs for which study. */
  jobNamePrefix: string;
  /** After SIGTERM at budget + grace, SIGKILL this much later (default 3000 ms). */
  killAfterMs?: number;
}

/** States after which SLURM lost the job, not the trial's fault: resubmitted once. */
const REQUEUE_ONCE = new Set(['NODE_FAIL', 'PREEMPTED', 'BOOT_FAIL']);
const OUTPUT_CAP_CHARS = 4 * 1024 * 1024;
const LOG_TAIL_LINES = 50;
/** While cancelling, ask SLURM more often than the configured interval. */
const CANCEL_POLL_MS = 250;

/**
 * Runs each trial as a SLURM batch job: `sbatch --parsable` with `--time`
 * from the budget plus a margin, `--gres=gpu:N`, partition/account/qos and
 * extra arguments from the config, and `--output` into the study's log
 * folder; the job script enforces the exact budget with `timeout`. Jobs are
 * polled with `squeue`, then `scontrol show job` once they leave the queue,
 * then `sacct` when accounting is on, then the job's own exit record. Abort
 * runs `scancel` (the trial ends `interrupted`); NODE_FAIL, PREEMPTED and
 * BOOT_FAIL are resubmitted once, then the trial crashes. The job id reaches
 * the ledger through `onExternalId`, and `attachTo` follows a job an earlier
 * orchestrator submitted instead of submitting again. A log the node could
 * not write in full (the job script ran to its end but its last line is
 * missing) or job files Strata cannot write reject with a TrialLogError.
 *
 * @example
 * const executor = new SlurmExecutor({ slurm: research.executor.slurm, jobDir: '/shared/strata/jobs', jobNamePrefix: 'strata-tiny-lm' });
 */
export class SlurmExecutor implements Executor {
  readonly kind = 'slurm';
  private readonly options: SlurmExecutorOptions;
  /** Unknown until sacct is first asked; false once it says accounting is disabled. */
  private accounting: boolean | undefined;

  constructor(options: SlurmExecutorOptions) {
    this.options = options;
  }

  async run(request: ExecutionRequest): Promise<ExecutionResult> {
    if (request.attachTo) return this.follow(request.attachTo, request, 1);
    if (request.signal?.aborted) return emptyResult('interrupted');
    let jobId: string;
    try {
      jobId = await this.submit(request);
    } catch (error) {
      if (!(error instanceof SlurmError)) throw error;
      return { ...emptyResult('spawn_error'), error: error.message };
    }
    request.onExternalId?.(jobId);
    return this.follow(jobId, request, 1);
  }

  /** Is the job still queued or running, or did it end leaving an exit record a restarted orchestrator can read? */
  async isActive(externalId: string): Promise<boolean> {
    const info = await this.query(externalId);
    if (info) return isActiveState(info.state) || (await this.exitRecord(externalId)).exitCode !== null;
    return (await this.exitRecord(externalId)).exitCode !== null;
  }

  async cancel(externalId: string): Promise<void> {
    await slurmCommand('scancel', [externalId], { allowFailure: true });
  }

  private async submit(request: ExecutionRequest): Promise<string> {
    const { jobDir } = this.options;
    const stem = `trial-${request.trialId}-${basename(request.logPath, '.log')}`;
    const commandFile = join(jobDir, `${stem}.cmd.sh`);
    const scriptPath = join(jobDir, `${stem}.sbatch.sh`);
    await storing(commandFile, 'the SLURM job files', async () => {
      await mkdir(jobDir, { recursive: true });
      await writeFile(commandFile, `${request.command}\n`);
      await writeFile(
        scriptPath,
        jobScript({ cwd: request.cwd, commandFile, budgetMs: request.budgetMs, graceMs: request.graceMs, killAfterMs: this.options.killAfterMs ?? 3000, statusDir: jobDir }),
        { mode: 0o755 },
      );
    });
    await storing(request.logPath, 'the trial log', () => mkdir(join(request.logPath, '..'), { recursive: true }));
    const args = sbatchArguments({
      slurm: this.options.slurm,
      jobName: `${this.options.jobNamePrefix}-${request.trialId}`,
      logPath: request.logPath,
      cwd: request.cwd,
      budgetMs: request.budgetMs,
      graceMs: request.graceMs,
      scriptPath,
    });
    const submitted = await slurmCommand('sbatch', args, { env: submitEnvironment(request.env) });
    // --parsable prints "<id>" or "<id>;<cluster>".
    const jobId = submitted.stdout.trim().split(';')[0] ?? '';
    if (!/^\d+(_\d+)?$/.test(jobId)) {
      throw new SlurmError(`sbatch printed no job id (got ${JSON.stringify(submitted.stdout.trim())})`, { command: 'sbatch', args, exitCode: 0, stderr: submitted.stderr });
    }
    return jobId;
  }

  /** Wait for a job to end (cancelling it on abort), streaming its log, and describe how it ended. */
  private async follow(jobId: string, request: ExecutionRequest, attempt: number): Promise<ExecutionResult> {
    const log = new LogFollower(request.logPath);
    let cancelled = false;
    let firstRunning: number | undefined;
    let info: JobInfo | null = null;
    for (;;) {
      if (request.signal?.aborted && !cancelled) {
        await this.cancel(jobId);
        cancelled = true;
      }
      info = await this.query(jobId);
      await log.poll(request.onOutput);
      if (!info || !isActiveState(info.state)) break;
      if (info.state === 'RUNNING') firstRunning ??= Date.now();
      await sleep(cancelled ? CANCEL_POLL_MS : this.options.slurm.pollIntervalMs, cancelled ? undefined : request.signal);
    }
    await log.poll(request.onOutput);
    const record = await this.exitRecord(jobId);
    const state = info?.state ?? (record.exitCode !== null ? 'COMPLETED' : 'UNKNOWN');

    if (!cancelled && REQUEUE_ONCE.has(state) && attempt === 1) {
      await storing(request.logPath, 'the trial log', () => appendNote(request.logPath, `strata: SLURM job ${jobId} ended ${state}; submitting it once more`));
      let again: string;
      try {
        again = await this.submit(request);
      } catch (error) {
        if (!(error instanceof SlurmError)) throw error;
        return { ...emptyResult('spawn_error'), error: `resubmitting after ${state}: ${error.message}` };
      }
      request.onExternalId?.(again);
      return this.follow(again, request, attempt + 1);
    }

    const output = await readTail(request.logPath);
    // The script ran to its end (it wrote its exit record, or SLURM saw it exit), so its last line must be in the log.
    if (!cancelled && (record.exitCode !== null || state === 'COMPLETED' || state === 'FAILED') && !logIsComplete(output)) await incompleteLog(request.logPath, jobId);
    const wallMs = record.startedMs !== null && record.endedMs !== null ? record.endedMs - record.startedMs : firstRunning !== undefined ? Date.now() - firstRunning : 0;
    const base = { wallMs, peakRssKb: await this.peakRss(jobId), logTail: lastLines(output, LOG_TAIL_LINES), output };
    if (cancelled) return { ...base, status: 'interrupted', exitCode: null, signal: null };
    if (state === 'TIMEOUT' || state === 'DEADLINE' || record.exitCode === 124 || record.exitCode === 137) {
      return { ...base, status: 'timeout', exitCode: record.exitCode, signal: null };
    }
    if (REQUEUE_ONCE.has(state)) {
      return { ...base, status: 'exited', exitCode: null, signal: `SLURM ${state} twice`, error: `SLURM job ${jobId} ended ${state} after a resubmission` };
    }
    if (state === 'CANCELLED') {
      return { ...base, status: 'exited', exitCode: null, signal: 'SLURM CANCELLED', error: `SLURM job ${jobId} was cancelled outside Strata${info?.reason ? ` (${info.reason})` : ''}` };
    }
    if (record.exitCode !== null) return { ...base, status: 'exited', exitCode: record.exitCode, signal: null };
    if (state === 'UNKNOWN') {
      return { ...base, status: 'exited', exitCode: null, signal: 'SLURM job lost', error: `SLURM no longer knows job ${jobId} and it left no exit record in ${this.options.jobDir}` };
    }
    // The script never wrote its record (killed before its end: OUT_OF_MEMORY, a signal): SLURM's view is all there is.
    return { ...base, status: 'exited', exitCode: info?.exitCode ?? null, signal: `SLURM ${state}`, error: `SLURM job ${jobId} ended ${state}${info?.reason ? ` (${info.reason})` : ''}` };
  }

  /** The job's state: squeue while it is queued or running, then scontrol, then sacct; null when none knows it. */
  private async query(jobId: string): Promise<JobInfo | null> {
    const queued = await slurmCommand('squeue', ['-h', '-j', jobId, '-o', '%T'], { allowFailure: true });
    const state = queued.exitCode === 0 ? queued.stdout.trim() : '';
    if (state !== '' && isActiveState(state)) return { state, exitCode: null, signal: null, reason: null };
    const shown = await slurmCommand('scontrol', ['show', 'job', '-o', jobId], { allowFailure: true });
    if (shown.exitCode === 0) {
      const info = parseScontrolJob(shown.stdout);
      if (info) return info;
    }
    if (this.accounting === false) return null;
    const accounted = await slurmCommand('sacct', ['-j', jobId, '-n', '-P', '-X', '-o', 'State,ExitCode'], { allowFailure: true });
    if (accounted.exitCode !== 0) {
      // "Slurm accounting storage is disabled": fall back to scontrol and the exit record from now on.
      if (/accounting storage is disabled/i.test(accounted.stderr + accounted.stdout)) this.accounting = false;
      return null;
    }
    this.accounting = true;
    return parseSacctJob(accounted.stdout);
  }

  /** Peak memory from accounting (the largest MaxRSS of the job's steps); null without accounting. */
  private async peakRss(jobId: string): Promise<number | null> {
    if (this.accounting !== true) return null;
    const result = await slurmCommand('sacct', ['-j', jobId, '-n', '-P', '-o', 'MaxRSS'], { allowFailure: true });
    if (result.exitCode !== 0) return null;
    const values = result.stdout.split('\n').map(parseMaxRssKb).filter((value): value is number => value !== null);
    return values.length > 0 ? Math.max(...values) : null;
  }

  private async exitRecord(jobId: string): Promise<ExitRecord> {
    const text = await readFile(join(this.options.jobDir, `${jobId}.status`), 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return '';
      throw error;
    });
    return parseExitRecord(text);
  }
}

function emptyResult(status: ExecutionResult['status']): ExecutionResult {
  return { status, exitCode: null, signal: null, wallMs: 0, peakRssKb: null, logTail: [], output: '' };
}

/**
 * What sbatch runs with (and, by SLURM's default --export=ALL, what the job
 * sees): the trial's environment without the job variables of an allocation
 * the orchestrator itself may run in, which would otherwise steer sbatch.
 */
function submitEnvironment(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith('SLURM_') || name === 'SLURM_CONF'));
}

/** Reads what a job appended to its log since the last poll, decoding UTF-8 across reads. */
class LogFollower {
  private readonly path: string;
  private offset = 0;
  private readonly decoder = new StringDecoder('utf8');

  constructor(path: string) {
    this.path = path;
  }

  async poll(onOutput: ((chunk: string) => void) | undefined): Promise<void> {
    const handle = await open(this.path, 'r').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return null; // the job has not started writing yet
      throw error;
    });
    if (!handle) return;
    try {
      const buffer = Buffer.alloc(64 * 1024);
      for (;;) {
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, this.offset);
        if (bytesRead === 0) break;
        this.offset += bytesRead;
        const text = this.decoder.write(buffer.subarray(0, bytesRead));
        if (text && onOutput) onOutput(text);
      }
    } finally {
      await handle.close();
    }
  }
}

async function readTail(path: string): Promise<string> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  return text.length > OUTPUT_CAP_CHARS ? text.slice(text.length - OUTPUT_CAP_CHARS) : text;
}

/**
 * A log that lacks the job script's last line was cut short where the node
 * wrote it. Writing a note to it tells why: a full or failing disk rejects
 * the write with its errno; if the write succeeds the space came back, and
 * the log is still incomplete.
 */
async function incompleteLog(logPath: string, jobId: string): Promise<never> {
  try {
    await appendNote(logPath, `strata: the output of SLURM job ${jobId} ends before the job script's last line: the node could not write all of it`);
  } catch (error) {
    throw new TrialLogError(`the trial log ${logPath} could not be written: ${explainWriteFailure(logPath, error)}`, { cause: error, details: { path: logPath, jobId, errno: (error as NodeJS.ErrnoException).code ?? null } });
  }
  const facts = fileSystemOf(logPath);
  throw new TrialLogError(
    `the trial log ${logPath} is incomplete: SLURM job ${jobId} ran to its end but its log lacks the job script's last line, so the node could not write all of it (the file system mounted at ${facts.mountPoint ?? logPath}${facts.type ? `, ${facts.type}` : ''}, may have been full); check its space and health, then run again to resume`,
    { details: { path: logPath, jobId } },
  );
}

/** Run a file write for `what`; a failure becomes a TrialLogError saying why (a full disk) and where. */
async function storing<T>(path: string, what: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === undefined) throw error;
    throw new TrialLogError(`${what} ${path} could not be written: ${explainWriteFailure(path, error)}`, { cause: error, details: { path, errno: code } });
  }
}

async function appendNote(path: string, line: string): Promise<void> {
  await writeFile(path, `${line}\n`, { flag: 'a' });
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
