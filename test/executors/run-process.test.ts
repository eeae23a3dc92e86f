import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runProcess, type RunProcessOptions } from '../../src/executors/run-process.ts';
import { parseMetrics } from '../../src/executors/metric-parser.ts';
import { StrataError } from '../../src/core/errors.ts';

const trainers = fileURLToPath(new URL('../fixtures/trainers/', import.meta.url));
const node = process.execPath;
const isLinux = process.platform === 'linux';

/** Single-quotes a word for /bin/sh. */
function shellQuote(word: string): string {
  return `'${word.replaceAll("'", "'\\''")}'`;
}

function nodeTrainer(name: string, ...args: string[]): string {
  return [node, join(trainers, name), ...args].map(shellQuote).join(' ');
}

/** A process that still runs: it exists and is not a zombie waiting to be reaped. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
  if (!isLinux) return true;
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false; // reaped between the two checks
    throw error;
  }
}

/** process.kill(pid, 0): 'alive' (or a zombie), or the error code, 'ESRCH' once the pid is gone. */
function signalZero(pid: number): string {
  try {
    process.kill(pid, 0);
    return 'alive';
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? 'unknown';
  }
}

function pidAfter(label: string, output: string): number {
  const match = new RegExp(`^${label} (\\d+)$`, 'm').exec(output);
  if (!match?.[1]) throw new Error(`no "${label} <pid>" line in output:\n${output}`);
  return Number(match[1]);
}

let workDir: string;
const strays: number[] = [];

beforeEach(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'strata-run-process-'));
});

afterEach(async () => {
  for (const pid of strays.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  }
  await rm(workDir, { recursive: true, force: true });
});

function options(command: string, overrides: Partial<RunProcessOptions> = {}): RunProcessOptions {
  return {
    command,
    cwd: workDir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    budgetMs: 3000,
    graceMs: 500,
    killAfterMs: 500,
    logPath: join(workDir, 'logs', 'run.log'),
    ...overrides,
  };
}

describe('runProcess', () => {
  it('runs a trainer to completion, streams its output to the log and reports its metric', async () => {
    const result = await runProcess(options(nodeTrainer('succeed.mjs')));
    expect(result).toMatchObject({ status: 'exited', exitCode: 0, signal: null });
    expect(result.error).toBeUndefined();
    expect(result.output).toContain('METRIC val_loss=1.234');
    expect(result.output).toContain('warning: this is stderr');
    expect(result.logTail).toContain('METRIC tokens_per_s=5000');
    expect(result.wallMs).toBeGreaterThan(0);
    const log = await readFile(join(workDir, 'logs', 'run.log'), 'utf8');
    expect(log).toBe(result.output);
    expect(parseMetrics(result.output, { name: 'val_loss' })).toMatchObject({ primary: 1.234, problems: [] });
  });

  it('reports a crash as exited with code 1 and keeps the stack trace in the log tail', async () => {
    const result = await runProcess(options(nodeTrainer('crash.mjs')));
    expect(result).toMatchObject({ status: 'exited', exitCode: 1, signal: null });
    expect(result.logTail[0]).toBe('step 1 loss 2.000');
    expect(result.logTail.join('\n')).toMatch(/Error: CUDA out of memory \(simulated\)\n\s+at trainStep/);
    expect(parseMetrics(result.output, { name: 'val_loss' }).primary).toBeNull();
  });

  it('reports the signal when the command dies of one', async () => {
    const result = await runProcess(options('kill -KILL $$'));
    expect(result).toMatchObject({ status: 'exited', exitCode: null, signal: 'SIGKILL' });
  });

  it('times out a hang and kills the whole group, SIGTERM-ignoring grandchild included', async () => {
    const result = await runProcess(options(nodeTrainer('hang.mjs'), { budgetMs: 1000, graceMs: 300, killAfterMs: 500 }));
    expect(result.status).toBe('timeout');
    expect(result.wallMs).toBeGreaterThanOrEqual(1300);
    expect(result.wallMs).toBeLessThan(10_000);
    const trainer = pidAfter('TRAINER', result.output);
    const grandchild = pidAfter('GRANDCHILD', result.output);
    strays.push(trainer, grandchild);
    expect(result.output).toContain('trainer ignoring SIGTERM');
    // runProcess resolves only once no live member is left; a slow init may still have to reap them.
    expect(isRunning(trainer)).toBe(false);
    expect(isRunning(grandchild)).toBe(false);
    await expect.poll(() => signalZero(grandchild), { timeout: 10_000, interval: 100 }).toBe('ESRCH');
  });

  it('does not wait for a grandchild that holds stdout open, and kills it', async () => {
    const started = Date.now();
    const result = await runProcess(options(`sh ${shellQuote(join(trainers, 'grandchild-holds-stdout.sh'))}`, { budgetMs: 60_000 }));
    expect(Date.now() - started).toBeLessThan(10_000); // the grandchild sleeps 300 s
    expect(result).toMatchObject({ status: 'exited', exitCode: 0 });
    expect(result.error).toBeUndefined();
    const grandchild = pidAfter('GRANDCHILD', result.output);
    strays.push(grandchild);
    expect(isRunning(grandchild)).toBe(false);
    expect(parseMetrics(result.output, { name: 'val_loss' }).primary).toBe(0.5);
  });

  it('kills background jobs left in the group even when they closed their output', async () => {
    const pidFile = join(workDir, 'job.pid');
    const result = await runProcess(options(`sleep 300 >/dev/null 2>&1 & echo $! > ${shellQuote(pidFile)}`));
    expect(result).toMatchObject({ status: 'exited', exitCode: 0 });
    const job = Number(await readFile(pidFile, 'utf8'));
    strays.push(job);
    expect(isRunning(job)).toBe(false);
  });

  it('cannot reach a daemon that left the group with setsid (documented limit), and does not wait for it', async () => {
    const started = Date.now();
    const result = await runProcess(options(nodeTrainer('daemon.mjs'), { budgetMs: 60_000 }));
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result).toMatchObject({ status: 'exited', exitCode: 0 });
    const daemon = pidAfter('DAEMON', result.output);
    strays.push(daemon);
    // The group kill cannot reach another session; cgroup or PID-namespace containment will. Until then it survives.
    expect(isRunning(daemon)).toBe(true);
  });

  it('reports interrupted when aborted, and kills the group', async () => {
    const controller = new AbortController();
    let grandchild: number | undefined;
    const running = runProcess(
      options(nodeTrainer('hang.mjs'), {
        budgetMs: 60_000,
        signal: controller.signal,
        onOutput: (chunk) => {
          const match = /^GRANDCHILD (\d+)$/m.exec(chunk);
          if (match?.[1]) {
            grandchild = Number(match[1]);
            controller.abort();
          }
        },
      }),
    );
    const result = await running;
    expect(result.status).toBe('interrupted');
    expect(grandchild).toBeDefined();
    strays.push(grandchild!);
    expect(isRunning(grandchild!)).toBe(false);
  });

  it('does not start the command when the signal is already aborted', async () => {
    const marker = join(workDir, 'ran');
    const result = await runProcess(options(`touch ${shellQuote(marker)}`, { signal: AbortSignal.abort() }));
    expect(result.status).toBe('interrupted');
    await expect(stat(marker)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('reports spawn_error when the working directory does not exist', async () => {
    const result = await runProcess(options('true', { cwd: join(workDir, 'missing') }));
    expect(result.status).toBe('spawn_error');
    expect(result.error).toContain('does not exist');
    expect(await readFile(join(workDir, 'logs', 'run.log'), 'utf8')).toContain('could not start');
  });

  it('caps the output text, keeping the tail, while the log keeps everything', async () => {
    const result = await runProcess(options(nodeTrainer('huge-output.mjs', '12'), { budgetMs: 20_000 }));
    expect(result).toMatchObject({ status: 'exited', exitCode: 0, outputTruncated: true });
    expect(result.output.length).toBeLessThanOrEqual(4 * 1024 * 1024);
    expect(result.output.endsWith('METRIC val_loss=0.25\n')).toBe(true);
    expect(result.logTail.length).toBe(50);
    expect(result.logTail.at(-1)).toBe('METRIC val_loss=0.25');
    const { size } = await stat(join(workDir, 'logs', 'run.log'));
    expect(size).toBeGreaterThanOrEqual(12 * 1024 * 1024);
  });

  it.runIf(isLinux)('reports the peak memory of a program that allocates', async () => {
    const result = await runProcess(options(nodeTrainer('allocate-memory.mjs', '200', '1200')));
    expect(result.status).toBe('exited');
    expect(result.peakRssKb).toBeGreaterThan(200 * 1024);
  });

  it('writes stdin to the command and closes it', async () => {
    const result = await runProcess(options('cat; echo done', { stdin: 'hello from stdin\n' }));
    expect(result.output).toBe('hello from stdin\ndone\n');
  });

  it('decodes characters split across reads, and logs the raw bytes', async () => {
    const logPath = join(workDir, 'logs', 'run.log');
    // "€" is e2 82 ac; ff is not UTF-8 at all.
    const result = await runProcess(options(`printf '\\342\\202'; sleep 0.1; printf '\\254 \\377\\n'`, { logPath }));
    expect(result.output).toBe('€ \uFFFD\n');
    expect([...(await readFile(logPath))]).toEqual([0xe2, 0x82, 0xac, 0x20, 0xff, 0x0a]);
  });

  it('gives the command exactly the environment it is handed', async () => {
    const result = await runProcess(options('env', { env: { ONLY_THIS: 'yes' } }));
    const names = result.output
      .trim()
      .split('\n')
      .map((line) => line.slice(0, line.indexOf('=')));
    expect(names).toContain('ONLY_THIS');
    expect(names).not.toContain('HOME');
    expect(names).not.toContain('VITEST');
  });

  it('appends to an existing log instead of replacing it', async () => {
    const logPath = join(workDir, 'logs', 'run.log');
    await runProcess(options('echo first', { logPath }));
    await runProcess(options('echo second', { logPath }));
    expect(await readFile(logPath, 'utf8')).toBe('first\nsecond\n');
  });

  it('keeps at most 50 lines in the tail, each as a terminal would show it', async () => {
    const result = await runProcess(options(`i=0; while [ $i -lt 80 ]; do echo "line $i"; i=$((i+1)); done; printf '10%%\\r50%%\\r100%%\\n'`));
    expect(result.logTail).toHaveLength(50);
    expect(result.logTail[0]).toBe('line 31');
    expect(result.logTail.at(-1)).toBe('100%');
  });

  it('stops the run and rejects when the output tap throws', async () => {
    const attempt = runProcess(
      options(nodeTrainer('hang.mjs'), {
        budgetMs: 60_000,
        onOutput: () => {
          throw new Error('tap broke');
        },
      }),
    );
    await expect(attempt).rejects.toMatchObject({ code: 'output_tap_failed' });
  });

  it('rejects invalid budgets and unwritable logs with a StrataError', async () => {
    await expect(runProcess(options('true', { budgetMs: Number.NaN }))).rejects.toBeInstanceOf(StrataError);
    const blocker = join(workDir, 'file');
    await writeFile(blocker, '');
    await expect(runProcess(options('true', { logPath: join(blocker, 'run.log') }))).rejects.toMatchObject({ code: 'process_log_failed' });
  });
});
