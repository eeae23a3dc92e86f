import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { GitError } from '../core/errors.ts';

export interface GitResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** Identity for commits Strata makes, so they work in repositories without a configured user. */
const IDENTITY = ['-c', 'user.name=Strata', '-c', 'user.email=strata@localhost', '-c', 'commit.gpgsign=false'];

/**
 * Run `git` with an argument array (never a shell string) in `cwd`.
 * Throws GitError with the command, exit code and stderr unless `allowFailure`.
 *
 * @example
 * const head = (await git(['rev-parse', 'HEAD'], repo)).stdout.trim();
 */
export function git(
  args: readonly string[],
  cwd: string,
  options: { allowFailure?: boolean; input?: string; env?: NodeJS.ProcessEnv; identity?: boolean } = {},
): Promise<GitResult> {
  const fullArgs = options.identity ? [...IDENTITY, ...args] : [...args];
  return new Promise((resolve, reject) => {
    const child = execFile(
      'git',
      fullArgs,
      { cwd, maxBuffer: 256 * 1024 * 1024, env: { ...process.env, GIT_TERMINAL_PROMPT: '0', ...options.env } },
      (error, stdout, stderr) => {
        const exitCode = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        if (error && (typeof error.code !== 'number' || !options.allowFailure)) {
          const spawnProblem =
            typeof error.code !== 'string' ? '' : existsSync(cwd) ? ` (${error.code}: is git installed and on PATH?)` : ` (the folder ${cwd} does not exist)`;
          reject(
            new GitError(`git ${args.join(' ')} failed in ${cwd}${spawnProblem}: ${stderr.trim() || error.message}`, {
              args,
              exitCode: typeof error.code === 'number' ? error.code : null,
              stderr,
              cwd,
            }),
          );
          return;
        }
        resolve({ stdout, stderr, exitCode });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** `git ... ` and return trimmed stdout. */
export async function gitText(args: readonly string[], cwd: string, options: { identity?: boolean; input?: string } = {}): Promise<string> {
  return (await git(args, cwd, options)).stdout.trim();
}
