import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { GitError } from '../core/errors.ts';

export interface GitResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** Identity for commits Strata makes, so they work in repositories without a configured user. */
const IDENTITY = ['-c', 'user.name=Strata', '-c', 'user.email=strata@localhost'];

/**
 * Settings on every call that stop git from running programs a repository's
 * config names: a proposer or trial that could write the config (where the
 * sandbox is missing, or through a cluster's shared file system) must not
 * get Strata to run its code. Command-line settings win over every config
 * file. Filters and merge drivers have names chosen by .gitattributes and
 * cannot be turned off by name; integrity/git-control-files.ts puts a
 * changed config back before Strata runs git there again. Transport
 * settings stay: a partial clone fetches missing objects on checkout.
 */
export const SAFE_CONFIG: readonly string[] = [
  'core.fsmonitor=false',
  'core.hooksPath=/dev/null',
  'core.pager=cat',
  'commit.gpgSign=false',
  'tag.gpgSign=false',
  'log.showSignature=false',
  'gc.auto=0',
  'maintenance.auto=false',
  'submodule.recurse=false',
  'status.submoduleSummary=false',
].flatMap((setting) => ['-c', setting]);

/** Commands that would run external diff programs and textconv filters the config names; told not to. */
const DIFFING = new Set(['diff', 'log', 'show', 'format-patch']);

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
  const [command, ...rest] = args;
  const safeArgs = command !== undefined && DIFFING.has(command) ? [command, '--no-ext-diff', '--no-textconv', ...rest] : [...args];
  const fullArgs = [...SAFE_CONFIG, ...(options.identity ? IDENTITY : []), ...safeArgs];
  return new Promise((resolve, reject) => {
    const child = execFile(
      'git',
      fullArgs,
      { cwd, maxBuffer: 256 * 1024 * 1024, env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_PAGER: 'cat', ...options.env } },
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
