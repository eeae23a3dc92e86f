/**
 * What a set of files looks like on disk: content hash, type, permission
 * bits and symlink targets, read without following links, so that replacing
 * a protected file by a symlink, or a directory by a link elsewhere, shows.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join, matchesGlob, posix } from 'node:path';

/** One path as found on disk. */
export type SnapshotEntry =
  | { kind: 'file'; mode: number; size: number; sha256: string }
  | { kind: 'symlink'; target: string }
  | { kind: 'directory'; mode: number }
  | { kind: 'other'; mode: number };

/** Snapshot entries by path (posix, relative to the snapshot's root), sorted. */
export type FileSnapshot = ReadonlyMap<string, SnapshotEntry>;

/** Folders never walked: git's metadata is not part of any trial's files. */
const SKIPPED_DIRECTORIES = new Set(['.git']);

/**
 * Snapshot every path under `root` matching one of `globs` (Node's
 * `path.matchesGlob`; a glob's directory also counts, so `data/**` notices
 * `data` itself turning into a symlink). Only the folders a glob can reach
 * are walked, and symlinks are recorded, never followed.
 *
 * @example
 * const snapshot = await snapshotFiles(worktree, ['prepare.py', 'data/**']);
 * snapshot.get('prepare.py'); // { kind: 'file', mode: 0o644, size: 5120, sha256: '9f…' }
 */
export async function snapshotFiles(root: string, globs: readonly string[]): Promise<FileSnapshot> {
  const entries = new Map<string, SnapshotEntry>();
  const matches = (path: string) => globs.some((glob) => matchesGlob(path, glob) || matchesGlob(path, `${glob}/**`) || isGlobDirectory(path, glob));
  const visited = new Set<string>();
  for (const start of new Set(globs.map(staticPrefix))) {
    // The folders above a walk's start are looked at too: a symlinked parent would otherwise be followed unseen.
    const parts = start === '' ? [] : start.split('/');
    let reachable = true;
    for (let depth = 1; depth < parts.length && reachable; depth++) reachable = await recordAncestor(root, parts.slice(0, depth).join('/'), entries);
    if (reachable) await walk(root, start, matches, entries, visited);
  }
  return new Map([...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Record a folder above a walk's start; false when it is not a real folder (a symlink is recorded, never entered). */
async function recordAncestor(root: string, path: string, entries: Map<string, SnapshotEntry>): Promise<boolean> {
  const stats = await lstat(join(root, path)).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return null;
    throw error;
  });
  if (stats === null) return false;
  if (stats.isSymbolicLink()) entries.set(path, { kind: 'symlink', target: await readlink(join(root, path)) });
  else if (stats.isDirectory()) entries.set(path, { kind: 'directory', mode: stats.mode & 0o7777 });
  else entries.set(path, { kind: 'other', mode: stats.mode & 0o7777 });
  return stats.isDirectory();
}

async function walk(root: string, path: string, matches: (path: string) => boolean, entries: Map<string, SnapshotEntry>, visited: Set<string>): Promise<void> {
  if (visited.has(path)) return;
  visited.add(path);
  const absolute = path === '' ? root : join(root, path);
  const stats = await lstat(absolute).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return null;
    throw error;
  });
  if (stats === null) return;
  const mode = stats.mode & 0o7777;
  if (stats.isSymbolicLink()) {
    if (path !== '' && matches(path)) entries.set(path, { kind: 'symlink', target: await readlink(absolute) });
    return;
  }
  if (stats.isFile()) {
    if (matches(path)) entries.set(path, { kind: 'file', mode, size: stats.size, sha256: await hashFile(absolute) });
    return;
  }
  if (!stats.isDirectory()) {
    if (matches(path)) entries.set(path, { kind: 'other', mode });
    return;
  }
  if (path !== '' && matches(path)) entries.set(path, { kind: 'directory', mode });
  for (const name of (await readdir(absolute)).sort()) {
    if (SKIPPED_DIRECTORIES.has(name)) continue;
    await walk(root, path === '' ? name : `${path}/${name}`, matches, entries, visited);
  }
}

/** The folder part of a glob before its first wildcard: where walking must start. */
function staticPrefix(glob: string): string {
  const parts = posix.normalize(glob).split('/');
  const fixed: string[] = [];
  for (const part of parts) {
    if (/[*?[\]{}!]/.test(part)) break;
    fixed.push(part);
  }
  return fixed.join('/').replace(/^\.$/, '');
}

/** `data` is the folder of `data/**` (and of `data/*.bin`): it must stay a real folder. */
function isGlobDirectory(path: string, glob: string): boolean {
  const prefix = staticPrefix(glob);
  return prefix !== '' && prefix !== glob && (prefix === path || prefix.startsWith(`${path}/`));
}

function hashFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });
}
