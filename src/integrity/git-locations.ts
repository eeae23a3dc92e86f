/**
 * Where a checkout's git metadata lives, read from the files themselves
 * without running git (running git there could run what the metadata says).
 */
import { lstatSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** A checkout's git folders. */
export interface GitLocations {
  /** The checkout's own git folder: `<repo>/.git`, or `<repo>/.git/worktrees/<name>` for a linked worktree. */
  gitDir: string;
  /** The folder shared by all worktrees (config, hooks, objects). */
  commonDir: string;
  /** A linked worktree's `.git` file, which points at gitDir; undefined for the main checkout. */
  pointer?: string;
}

/**
 * The git folders of the checkout at `checkout` (its top level), or null when
 * it has no `.git`.
 *
 * @example
 * gitLocations('/repo/.strata/worktrees/s/slot-0');
 * // { gitDir: '/repo/.git/worktrees/slot-0', commonDir: '/repo/.git', pointer: '/repo/.strata/worktrees/s/slot-0/.git' }
 */
export function gitLocations(checkout: string): GitLocations | null {
  const dotGit = join(checkout, '.git');
  let stats;
  try {
    stats = lstatSync(dotGit);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  if (stats.isDirectory()) return { gitDir: dotGit, commonDir: dotGit };
  if (!stats.isFile()) return null;
  const match = /^gitdir:\s*(.+?)\s*$/m.exec(readFileSync(dotGit, 'utf8'));
  if (!match) return null;
  const gitDir = resolve(checkout, match[1]!);
  return { gitDir, commonDir: commonDirOf(gitDir), pointer: dotGit };
}

/** A linked worktree's git folder names the shared one in its `commondir` file. */
function commonDirOf(gitDir: string): string {
  try {
    return resolve(gitDir, readFileSync(join(gitDir, 'commondir'), 'utf8').trim());
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return gitDir;
    throw error;
  }
}

/**
 * The top level of the checkout holding `dir`: the nearest folder at or
 * above it with a `.git` entry.
 *
 * @example
 * checkoutRoot('/repo/.strata/worktrees/s/slot-0/project'); // '/repo/.strata/worktrees/s/slot-0'
 */
export function checkoutRoot(dir: string): string | undefined {
  for (let current = resolve(dir); ; current = dirname(current)) {
    try {
      lstatSync(join(current, '.git'));
      return current;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' && (error as NodeJS.ErrnoException).code !== 'ENOTDIR') throw error;
    }
    if (dirname(current) === current) return undefined;
  }
}
