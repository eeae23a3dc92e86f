/**
 * Runs one trial's shell command locally under a hard wall-clock budget.
 *
 * The command runs as `/bin/sh -c <command>` in its own process group. At budget + grace
 * the whole group gets SIGTERM, then SIGKILL `killAfterMs` later. Once the direct child
 * (the shell) has exited, the runner stops waiting for output after a short drain window
 * even if a grandchild still holds stdout/stderr open, SIGKILLs whatever is left in the
 * group, and resolves.
 *
 * Known limit: a process that leaves the group (setsid, a daemon's double fork) cannot be
 * reached by the group kill and outlives the trial. Containing those needs cgroups or a PID
 * namespace, which the sandbox work will add; until then they are neither killed nor counted
 * in peak memory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, type WriteStream } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { StrataError, TrialLogError, errorMessage } from '../core/errors.ts';
import { listLiveGroupMembers, procfsAvailable, startPeakMemorySampler } from './peak-memory.ts';
import { explainWriteFailure } from './storage-failure.ts';

/** How to run one command. */
export interface RunProcessOptions {
  /** A shell command line from the user's config, run via `/bin/sh -c` in `cwd`. */
  command: string;
  cwd: string;
  /** The complete environment; process.env is not merged in. */
  env: Record<string, string>;
  /** Wall-clock budget in milliseconds. */
  budgetMs: number;
  /** Extra time after the budget before SIGTERM is sent. */
  graceMs: number;
  /** After SIGTERM, SIGKILL the group this much later (default 3000 ms). */
  killAfterMs?: number;
  /** stdout and stderr are appended here, interleaved, as they arrive. */
  logPath: string;
  /** Abort kills the group (SIGTERM, then SIGKILL after killAfterMs); the status is 'interrupted'. */
  signal?: AbortSignal;
  /** Live tap on the output (decoded UTF-8 chunks, not lines). If it throws, the run is killed and the promise rejects. */
  onOutput?: (chunk: string) => void;
  /** Text written to the child's stdin, which is then closed; without it stdin is /dev/null. */
  stdin?: string;
}

/** How a run ended: the direct child exited on its own, was killed for time, was aborted, or never started. */
export type ProcessStatus = 'exited' | 'timeout' | 'interrupted' | 'spawn_error';

/** What happened to one run. */
export interface ProcessResult {
  status: ProcessStatus;
  /** Exit code of the direct child (the shell); null when it died of a signal or never started. */
  exitCode: number | null;
  /** Signal that ended the direct child, e.g. 'SIGTERM'. */
  signal: string | null;
  /** From spawn to the direct child's exit. */
  wallMs: number;
  /** Peak resident memory of the process group in KiB, as described in peak-memory.ts; null off Linux. */
  peakRssKb: number | null;
  /** The last (at most 50) lines of output, each as a terminal would show it after carriage returns, cut to 2000 characters. */
  logTail: string[];
  /** The output text (stdout and stderr interleaved), at most 4 Mi characters: the tail is kept when longer. */
  output: string;
  /** True when `output` lost its beginning to the cap (the log file still has everything). */
  outputTruncated?: boolean;
  /** Why the command could not start, or what went wrong around it (log writes, signals, leftovers). */
  error?: string;
}

const DEFAULT_KILL_AFTER_MS = 3000;
/** After the direct child exits, how long to keep reading pipes a grandchild may hold open. */
const DRAIN_WINDOW_MS = 200;
const OUTPUT_CAP_CHARS = 4 * 1024 * 1024;
const LOG_TAIL_LINES = 50;
const LOG_TAIL_LINE_CHARS = 2000;
/** How long to wait for SIGKILLed leftovers to die before saying so in `error`. */
const LEFTOVER_WAIT_MS = 2000;
/** setTimeout's largest delay; longer ones fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Runs `options.command` under `/bin/sh -c` with a hard time budget and resolves when it is
 * over and its process group is gone. Never rejects for what the command does (crash, hang,
 * no output); rejects with a StrataError only when the options are invalid, the log file
 * cannot be opened, or `onOutput` throws, and with a TrialLogError (after stopping the run:
 * what it prints would be lost) when the log cannot be written, e.g. on a full disk.
 *
 * @example
 * const result = await runProcess({
 *   command: 'uv run train.py', cwd: worktree, env: { PATH: '/usr/bin:/bin', HOME: home },
 *   budgetMs: 300_000, graceMs: 30_000, logPath: `${trialDir}/run.log`, signal,
 * });
 * if (result.status === 'timeout') trial.markTimedOut();
 */
export async function runProcess(options: RunProcessOptions): Promise<ProcessResult> {
  validateOptions(options);
  const log = await openLog(options.logPath);
  // A write error (a full disk) must never be an uncaught 'error' event: the stream keeps it in log.errored, where the outcome is decided.
  log.on('error', () => {});
  if (options.signal?.aborted) {
    await closeLog(log);
    return { status: 'interrupted', exitCode: null, signal: null, wallMs: 0, peakRssKb: null, logTail: [], output: '' };
  }

  const startedAt = performance.now();
  let child: ChildProcess;
  try {
    child = spawn('/bin/sh', ['-c', options.command], {
      cwd: options.cwd,
      env: options.env,
      detached: true, // the child leads a new process group, so the whole group can be signalled
      stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
  } catch (error) {
    // Synchronous failures: invalid arguments such as a NUL byte in the command or env.
    return await spawnFailure(options, log, error);
  }
  if (child.pid === undefined) {
    // Asynchronous failures (missing cwd, exhausted pids) arrive as one 'error' event.
    const error = await new Promise<unknown>((resolve) => child.once('error', resolve));
    return await spawnFailure(options, log, error);
  }
  return await supervise(child, child.pid, options, log, startedAt);
}

function supervise(child: ChildProcess, groupId: number, options: RunProcessOptions, log: WriteStream, startedAt: number): Promise<ProcessResult> {
  const killAfterMs = options.killAfterMs ?? DEFAULT_KILL_AFTER_MS;
  const output = new OutputTail(OUTPUT_CAP_CHARS);
  const sampler = startPeakMemorySampler(groupId);
  const problems: string[] = [];
  let status: Exclude<ProcessStatus, 'spawn_error'> = 'exited';
  let terminating = false;
  let exit: { code: number | null; signal: string | null; atMs: number } | null = null;
  let openPipes = 2;
  let finishing = false;
  let tapError: unknown;
  let logFailed = false;
  let deadlineTimer: NodeJS.Timeout | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  let drainTimer: NodeJS.Timeout | undefined;

  return new Promise<ProcessResult>((resolve, reject) => {
    const sendToGroup = (signal: NodeJS.Signals): boolean => {
      try {
        return signalGroup(groupId, signal);
      } catch (error) {
        problems.push(`could not send ${signal} to process group ${groupId}: ${errorMessage(error)}`);
        return false;
      }
    };

    const terminate = (reason: 'timeout' | 'interrupted'): void => {
      if (terminating || exit) return;
      terminating = true;
      status = reason;
      sendToGroup('SIGTERM');
      killTimer = setTimeout(() => sendToGroup('SIGKILL'), killAfterMs);
    };

    const pipes = [child.stdout, child.stderr].filter((stream) => stream !== null);
    const resumePipes = (): void => {
      for (const stream of pipes) stream.resume();
    };

    let waitingForDrain = false;
    const onDrain = (): void => {
      waitingForDrain = false;
      resumePipes();
    };

    /** Text decoded from one pipe goes to the output and the tap. */
    const onText = (text: string): void => {
      if (text.length === 0) return;
      output.append(text);
      if (options.onOutput && tapError === undefined) {
        try {
          options.onOutput(text);
        } catch (error) {
          tapError = error;
          terminate('interrupted');
        }
      }
    };

    log.on('error', () => {
      logFailed = true;
      resumePipes();
      // The output is no longer recorded: stop the run now rather than let it train for nothing.
      terminate('interrupted');
    });

    for (const stream of pipes) {
      // The log gets the raw bytes; the text is decoded per pipe, so a multi-byte character
      // split across reads (or interleaved with the other pipe) is never mangled.
      const decoder = new StringDecoder('utf8');
      stream.on('data', (bytes: Buffer) => {
        if (!logFailed && !log.write(bytes) && !waitingForDrain) {
          // The disk is slower than the child: stop reading so the child blocks instead of our memory growing.
          waitingForDrain = true;
          for (const each of pipes) each.pause();
          log.once('drain', onDrain);
        }
        onText(decoder.write(bytes));
      });
      stream.on('end', () => onText(decoder.end()));
      stream.on('error', (error) => problems.push(`reading the command's output failed: ${error.message}`));
      stream.on('close', () => {
        openPipes -= 1;
        if (openPipes === 0 && exit) void finish();
      });
    }
    openPipes = pipes.length;

    if (child.stdin) {
      child.stdin.on('error', (error: NodeJS.ErrnoException) => {
        // A child may exit without reading its stdin; that is its right, not a failure.
        if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') problems.push(`writing stdin failed: ${error.message}`);
      });
      child.stdin.end(options.stdin);
    }

    child.on('error', (error) => problems.push(`child process error: ${error.message}`));

    child.on('exit', (code, signal) => {
      exit = { code, signal, atMs: performance.now() };
      clearTimeout(deadlineTimer);
      clearTimeout(killTimer);
      // Pipes still open now are held by grandchildren; read what is buffered, then stop waiting.
      if (openPipes === 0) void finish();
      else drainTimer = setTimeout(() => void finish(), DRAIN_WINDOW_MS);
    });

    const onAbort = (): void => {
      if (exit) void finish();
      else terminate('interrupted');
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });

    deadlineTimer = setTimeout(() => terminate('timeout'), options.budgetMs + options.graceMs);

    const finish = async (): Promise<void> => {
      if (finishing) return;
      finishing = true;
      clearTimeout(deadlineTimer);
      clearTimeout(killTimer);
      clearTimeout(drainTimer);
      options.signal?.removeEventListener('abort', onAbort);

      const memory = sampler.stop();
      if (memory.error) problems.push(memory.error);

      // Leftovers in the group (background jobs, a grandchild holding stdout) must not outlive the trial.
      if (sendToGroup('SIGKILL')) {
        const stillAlive = await waitForGroupToDie(groupId, LEFTOVER_WAIT_MS);
        if (stillAlive.length > 0) {
          problems.push(`process group ${groupId} still had live members ${stillAlive.join(', ')} ${LEFTOVER_WAIT_MS} ms after SIGKILL`);
        }
      }
      // A process that left the group may still hold the pipes; stop reading them so we never wait on it.
      for (const stream of pipes) stream.destroy();
      child.stdin?.destroy();
      await closeLog(log);

      // The first write error (a full disk), including one from the final flush: the log lost output, so the run does not count.
      const writeError = log.errored;
      if (writeError) {
        reject(logWriteFailure(options.logPath, writeError));
        return;
      }
      if (tapError !== undefined) {
        reject(
          new StrataError('output_tap_failed', `the onOutput callback threw, so the run was stopped: ${errorMessage(tapError)}`, {
            cause: tapError,
            details: { command: options.command },
          }),
        );
        return;
      }
      const text = output.text();
      const result: ProcessResult = {
        status,
        exitCode: exit?.code ?? null,
        signal: exit?.signal ?? null,
        wallMs: Math.round((exit?.atMs ?? performance.now()) - startedAt),
        peakRssKb: memory.peakRssKb,
        logTail: lastLines(text, LOG_TAIL_LINES),
        output: text,
      };
      if (output.truncated) result.outputTruncated = true;
      if (problems.length > 0) result.error = problems.join('; ');
      resolve(result);
    };
  });
}

/** Sends `signal` to every process in the group; false when the group no longer exists. */
function signalGroup(groupId: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-groupId, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false; // the group is already gone
    throw error;
  }
}

/** Polls until no live member is left in the group; returns the pids still alive at the deadline. */
async function waitForGroupToDie(groupId: number, timeoutMs: number): Promise<number[]> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    // Zombies waiting for a slow init to reap them hold no resources: only live members count.
    const alive = procfsAvailable ? listLiveGroupMembers(groupId) : signalGroup(groupId, 0) ? [groupId] : [];
    if (alive.length === 0 || performance.now() >= deadline) return alive;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function spawnFailure(options: RunProcessOptions, log: WriteStream, error: unknown): Promise<ProcessResult> {
  const hint = existsSync(options.cwd) ? '' : ` (the working directory ${options.cwd} does not exist)`;
  const message = `could not start /bin/sh -c ${JSON.stringify(options.command)} in ${options.cwd}${hint}: ${errorMessage(error)}`;
  log.write(`strata: ${message}\n`);
  await closeLog(log);
  if (log.errored) throw logWriteFailure(options.logPath, log.errored);
  return { status: 'spawn_error', exitCode: null, signal: null, wallMs: 0, peakRssKb: null, logTail: [], output: '', error: message };
}

/** The error a run ends with when its log could not be written: what happened, where, and what to do. */
function logWriteFailure(path: string, error: Error): TrialLogError {
  return new TrialLogError(`the trial log ${path} could not be written: ${explainWriteFailure(path, error)}`, {
    cause: error,
    details: { path, errno: (error as NodeJS.ErrnoException).code ?? null },
  });
}

function validateOptions(options: RunProcessOptions): void {
  const checks: Array<[string, number | undefined]> = [
    ['budgetMs', options.budgetMs],
    ['graceMs', options.graceMs],
    ['killAfterMs', options.killAfterMs],
  ];
  for (const [name, value] of checks) {
    if (value !== undefined && !(Number.isFinite(value) && value >= 0)) {
      throw new StrataError('invalid_argument', `runProcess: ${name} must be a finite number of milliseconds >= 0, got ${value}`, {
        details: { [name]: value },
      });
    }
  }
  if (options.budgetMs + options.graceMs > MAX_TIMER_MS || (options.killAfterMs ?? 0) > MAX_TIMER_MS) {
    throw new StrataError('invalid_argument', `runProcess: budget + grace must be at most ${MAX_TIMER_MS} ms (about 24.8 days)`, {
      details: { budgetMs: options.budgetMs, graceMs: options.graceMs },
    });
  }
}

async function openLog(path: string): Promise<WriteStream> {
  try {
    await mkdir(dirname(path), { recursive: true });
    const handle = await open(path, 'a');
    return handle.createWriteStream();
  } catch (error) {
    throw new StrataError('process_log_failed', `cannot open the trial log ${path}: ${errorMessage(error)}; check that its directory is writable`, {
      cause: error,
      details: { path },
    });
  }
}

/** Flushes and closes the log; resolves once the file descriptor is closed. */
function closeLog(log: WriteStream): Promise<void> {
  if (log.closed) return Promise.resolve();
  return new Promise((resolve) => {
    log.once('close', () => resolve());
    log.end();
  });
}

/** Keeps the last `cap` characters of a stream of chunks without copying on every append. */
class OutputTail {
  private readonly cap: number;
  private chunks: string[] = [];
  private length = 0;
  truncated = false;

  constructor(cap: number) {
    this.cap = cap;
  }

  append(chunk: string): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
    // Drop whole chunks from the front while what remains still covers the cap.
    while (this.chunks.length > 1 && this.length - this.chunks[0]!.length >= this.cap) {
      this.length -= this.chunks.shift()!.length;
      this.truncated = true;
    }
  }

  text(): string {
    const joined = this.chunks.join('');
    if (joined.length <= this.cap) return joined;
    this.truncated = true;
    return joined.slice(joined.length - this.cap);
  }
}

/** The last `count` lines, each reduced to what a terminal shows after carriage returns, cut to a readable length. */
export function lastLines(text: string, count: number): string[] {
  let end = text.endsWith('\n') ? text.length - 1 : text.length;
  const lines: string[] = [];
  while (lines.length < count && end > 0) {
    const start = text.lastIndexOf('\n', end - 1) + 1;
    lines.push(displayLine(text.slice(start, end)));
    end = start - 1;
  }
  if (end === 0 && lines.length < count && text.startsWith('\n')) lines.push('');
  return lines.reverse();
}

function displayLine(raw: string): string {
  const withoutCr = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  const shown = withoutCr.slice(withoutCr.lastIndexOf('\r') + 1);
  if (shown.length <= LOG_TAIL_LINE_CHARS) return shown;
  return `${shown.slice(0, LOG_TAIL_LINE_CHARS)} … [${shown.length - LOG_TAIL_LINE_CHARS} more characters]`;
}
