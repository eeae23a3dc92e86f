/**
 * The files through which a repository tells git to run programs or look
 * elsewhere: its config (core.fsmonitor, core.hooksPath, filters, diff and
 * merge drivers, includes), the per-worktree config, `info/attributes`, the
 * hooks, and a linked worktree's `.git` pointer and `commondir`. Strata's
 * own git calls override the dangerous keys (workspace/git.ts); this
 * guards the rest: what a proposer or trial changed here is reported and
 * put back before Strata, or the user, runs git in that repository again.
 */
import { chmodSync, lstatSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import type { IntegrityViolation } from './compare-snapshots.ts';
import { gitLocations } from './git-locations.ts';

interface Kept {
  content: Buffer;
  mode: number;
}

export class GitControlFiles {
  /** Absolute path → what it held (null: it did not exist). */
  private readonly kept: ReadonlyMap<string, Kept | null>;
  private readonly hooksDir: string;
  /** Where paths are shown from: the repository's top level. */
  private readonly shownFrom: string;

  private constructor(kept: Map<string, Kept | null>, hooksDir: string, shownFrom: string) {
    this.kept = kept;
    this.hooksDir = hooksDir;
    this.shownFrom = shownFrom;
  }

  /**
   * Read the control files of the checkout at `checkout` (its top level);
   * null when it is not a git checkout.
   *
   * @example
   * const before = GitControlFiles.read(worktree);
   * await runAgent();
   * const changed = before?.changes() ?? []; // [{ path: '.git/config', change: 'content', detail: 'content changed' }]
   * if (changed.length > 0) before!.restore();
   */
  static read(checkout: string): GitControlFiles | null {
    const locations = gitLocations(checkout);
    if (!locations) return null;
    const { gitDir, commonDir, pointer } = locations;
    const hooksDir = join(commonDir, 'hooks');
    const paths = [
      ...(pointer ? [pointer, join(gitDir, 'commondir'), join(gitDir, 'config.worktree')] : []),
      join(commonDir, 'config'),
      join(commonDir, 'config.worktree'),
      join(commonDir, 'info', 'attributes'),
      ...listFiles(hooksDir),
    ];
    const kept = new Map<string, Kept | null>();
    for (const path of paths) kept.set(path, readKept(path));
    return new GitControlFiles(kept, hooksDir, basename(commonDir) === '.git' ? dirname(commonDir) : commonDir);
  }

  /** What differs on disk now from when these files were read, sorted by path. */
  changes(): IntegrityViolation[] {
    const violations: IntegrityViolation[] = [];
    for (const [path, was] of this.kept) {
      const now = readKept(path);
      const shown = relative(this.shownFrom, path) || path;
      if (was === null && now !== null) violations.push({ path: shown, change: 'added', detail: 'created' });
      else if (was !== null && now === null) violations.push({ path: shown, change: 'removed', detail: 'removed' });
      else if (was !== null && now !== null && !was.content.equals(now.content)) violations.push({ path: shown, change: 'content', detail: 'content changed' });
      else if (was !== null && now !== null && was.mode !== now.mode) violations.push({ path: shown, change: 'mode', detail: `mode ${octal(was.mode)} → ${octal(now.mode)}` });
    }
    for (const path of listFiles(this.hooksDir)) {
      if (!this.kept.has(path)) violations.push({ path: relative(this.shownFrom, path), change: 'added', detail: 'a new hook' });
    }
    return violations.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /** Put every file back as it was read: contents and modes restored, new hooks and files removed. */
  restore(): void {
    for (const [path, was] of this.kept) {
      if (was === null) rmSync(path, { force: true, recursive: true });
      else {
        const now = readKept(path);
        if (now === null || !now.content.equals(was.content)) {
          rmSync(path, { force: true, recursive: true }); // a symlink or folder put in its place is not written through
          writeFileSync(path, was.content);
        }
        chmodSync(path, was.mode);
      }
    }
    for (const path of listFiles(this.hooksDir)) if (!this.kept.has(path)) rmSync(path, { force: true, recursive: true });
  }
}

/**
 * One line for a reason: what changed, and that it was put back.
 *
 * @example
 * describeGitControlChanges([{ path: '.git/config', change: 'content', detail: 'content changed' }]);
 * // "the repository's git setup changed: .git/config (content changed); Strata put it back as it was"
 */
export function describeGitControlChanges(violations: readonly IntegrityViolation[]): string {
  const shown = violations.slice(0, 8).map((violation) => `${violation.path} (${violation.detail})`);
  if (violations.length > 8) shown.push(`and ${violations.length - 8} more`);
  return `the repository's git setup changed: ${shown.join(', ')}; Strata put it back as it was (if you changed it yourself meanwhile, change it again)`;
}

function readKept(path: string): Kept | null {
  let stats;
  try {
    stats = lstatSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw error;
  }
  // A symlink or folder where a file was is a change in itself: keep it as content nothing else can match.
  if (!stats.isFile()) return { content: Buffer.from(`\0not a file: ${stats.isSymbolicLink() ? 'symlink' : 'other'}`), mode: stats.mode & 0o7777 };
  return { content: readFileSync(path), mode: stats.mode & 0o7777 };
}

function listFiles(dir: string): string[] {
  try {
    return readdirSync(dir).map((name) => join(dir, name));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw error;
  }
}

function octal(mode: number): string {
  return mode.toString(8).padStart(3, '0');
}
