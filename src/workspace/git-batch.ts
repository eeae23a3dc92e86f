import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { GitError } from '../core/errors.ts';
import { SAFE_CONFIG } from './git.ts';

/** How long an idle batch process is kept before it is closed (the next request starts a new one). */
const IDLE_CLOSE_MS = 5_000;

/**
 * One long-lived git process that answers requests on stdin/stdout
 * (`update-ref --stdin`, `hash-object --stdin-paths`, `cat-file --batch`),
 * so a trial's ref update or commit costs a pipe round trip instead of a
 * process start (several ms of the orchestrator's own CPU each: Node forks
 * itself to spawn). Requests are answered one at a time, in order. The
 * process runs with the same safe settings as every other git call
 * (SAFE_CONFIG), reads the repository's config once, when it starts, and is
 * closed after a few idle seconds; it never keeps Node alive. When git
 * fails (a compare-and-swap that lost, a missing object) it exits: the
 * request fails with git's message as a GitError and the next one starts a
 * fresh process.
 *
 * @example
 * const refs = new GitBatchProcess(['update-ref', '--stdin'], repo.root);
 * await refs.request('start\nupdate refs/x <sha>\nprepare\ncommit\n', (out) => (out.endsWith('commit: ok\n') ? { consumed: out.length, value: undefined } : null));
 */
export class GitBatchProcess {
  private readonly args: readonly string[];
  private readonly cwd: string;
  private readonly env: NodeJS.ProcessEnv;
  private child: ChildProcessWithoutNullStreams | null = null;
  private stdout = '';
  private stderr = '';
  private queue: Promise<unknown> = Promise.resolve();
  private pending: {
    child: ChildProcessWithoutNullStreams;
    parse: (out: string) => { consumed: number; value: unknown } | null;
    resolve: (value: unknown) => void;
    reject: (error: unknown) => void;
    input: string;
  } | null = null;
  private idle: NodeJS.Timeout | null = null;

  constructor(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
    this.args = args;
    this.cwd = cwd;
    this.env = env;
  }

  /**
   * Write `input` (as UTF-8) and wait until `parse` recognises a whole answer
   * in what the process printed since (read as latin1: one char per byte; it
   * returns how much it read and the value), or until the process exits
   * (rejected with its stderr).
   */
  request<T>(input: string, parse: (out: string) => { consumed: number; value: T } | null): Promise<T> {
    const run = this.queue.then(
      () => this.send(input, parse),
      () => this.send(input, parse),
    );
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Close the process now (idle ones also close by themselves). */
  close(): void {
    if (this.idle) clearTimeout(this.idle);
    this.idle = null;
    this.child?.stdin.end();
    this.child = null;
  }

  private send<T>(input: string, parse: (out: string) => { consumed: number; value: T } | null): Promise<T> {
    if (this.idle) clearTimeout(this.idle);
    this.idle = null;
    const child = this.child ?? this.start();
    return new Promise<T>((resolve, reject) => {
      this.pending = { child, parse, resolve: resolve as (value: unknown) => void, reject, input };
      // Held while a request waits, so a caller awaiting git is never left with an empty event loop.
      child.ref();
      (child.stdout as unknown as { ref(): void }).ref();
      child.stdin.write(input);
    });
  }

  private start(): ChildProcessWithoutNullStreams {
    const child = spawn('git', [...SAFE_CONFIG, ...this.args], {
      cwd: this.cwd,
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_PAGER: 'cat', ...this.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child = child;
    this.stdout = '';
    this.stderr = '';
    // One char per byte, so binary answers (cat-file's tree objects) come through intact; the text ones are ASCII.
    child.stdout.setEncoding('latin1');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      if (this.child !== child) return;
      this.stdout += chunk;
      this.answer();
    });
    child.stderr.on('data', (chunk: string) => {
      if (this.child !== child) return;
      this.stderr = (this.stderr + chunk).slice(-64 * 1024);
    });
    // EPIPE when git has exited already: the exit handler reports it.
    child.stdin.on('error', () => undefined);
    const failed = (exitCode: number | null, problem: string) => {
      // A process closed earlier (idle, or out of step) ends without a word: a newer one may be answering.
      if (this.child !== child) return;
      this.child = null;
      if (this.idle) clearTimeout(this.idle);
      this.idle = null;
      const pending = this.pending;
      this.pending = null;
      if (!pending) return;
      pending.reject(
        new GitError(`git ${this.args.join(' ')} failed in ${this.cwd}: ${this.stderr.trim() || problem}`, {
          args: [...this.args, `< ${pending.input.trim()}`],
          exitCode,
          stderr: this.stderr,
          cwd: this.cwd,
        }),
      );
    };
    child.on('error', (error) => failed(null, `${error.message} (is git installed and on PATH?)`));
    // 'close', not 'exit': by then everything it printed has been read.
    child.on('close', (code, signal) => failed(code, `exited with ${code ?? signal}`));
    (child.stderr as unknown as { unref(): void }).unref();
    (child.stdin as unknown as { unref(): void }).unref();
    return child;
  }

  private answer(): void {
    const pending = this.pending;
    if (!pending) return;
    let parsed;
    try {
      parsed = pending.parse(this.stdout);
    } catch (error) {
      // An answer the caller cannot read leaves the stream out of step: start afresh next time.
      this.pending = null;
      this.close();
      pending.reject(error);
      return;
    }
    if (parsed === null) return;
    this.stdout = this.stdout.slice(parsed.consumed);
    this.pending = null;
    if (this.child) this.release(this.child);
    pending.resolve(parsed.value);
  }

  /** Let Node exit while the process idles, and close it after a while. */
  private release(child: ChildProcessWithoutNullStreams): void {
    child.unref();
    (child.stdout as unknown as { unref(): void }).unref();
    this.idle = setTimeout(() => {
      if (this.child === child && this.pending === null) this.close();
    }, IDLE_CLOSE_MS);
    this.idle.unref();
  }
}
