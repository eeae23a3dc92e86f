/**
 * `bin/strata.js` as a real child process, awaited without blocking the event
 * loop (so an in-process loopback model server can answer it). The test may
 * act on the running process (send a signal once something happened) through
 * `during`.
 *
 * @example
 * const run = await strataProcess(dir, ['evolve'], { during: async (child) => { await until(() => server.requests.length > 0); child.kill('SIGINT'); } });
 * expect(run.code).toBe(130);
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

export const STRATA_BIN = resolve(import.meta.dirname, '../../bin/strata.js');

export interface StrataRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function strataProcess(
  cwd: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; during?: (child: ChildProcess) => Promise<void> } = {},
): Promise<StrataRun> {
  const child = spawn(process.execPath, [STRATA_BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: '1', ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<StrataRun>((done, fail) => {
    child.once('error', fail);
    child.once('close', (code, signal) => done({ code, signal, stdout, stderr }));
  });
  return (async () => {
    if (options.during) {
      try {
        await options.during(child);
      } catch (error) {
        child.kill('SIGKILL');
        await exited;
        throw error;
      }
    }
    return exited;
  })();
}

/** Poll `condition` every 20 ms until it holds; throws after `timeoutMs` saying what was awaited. */
export async function until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
