import type { FileSnapshot, SnapshotEntry } from './file-snapshot.ts';

/** One way a protected path differs from what it should be. */
export interface IntegrityViolation {
  path: string;
  change: 'added' | 'removed' | 'content' | 'mode' | 'type' | 'target';
  /** Human-readable: "content changed", "replaced by a symlink to /tmp/x", "mode 644 → 755". */
  detail: string;
}

/**
 * Which permission bits count: `all` (a run must leave every bit as it found
 * it), or `executable` (against a checkout made by git, which only records
 * the executable bit; the rest follows the umask).
 */
export type ModeComparison = 'all' | 'executable';

/**
 * Every difference between the expected and the actual snapshot of the same
 * globs, sorted by path.
 *
 * @example
 * compareSnapshots(before, after, 'all');
 * // [{ path: 'prepare.py', change: 'content', detail: 'content changed' }]
 */
export function compareSnapshots(expected: FileSnapshot, actual: FileSnapshot, modes: ModeComparison): IntegrityViolation[] {
  const violations: IntegrityViolation[] = [];
  for (const [path, was] of expected) {
    const now = actual.get(path);
    if (!now) violations.push({ path, change: 'removed', detail: `${describeKind(was)} removed` });
    else {
      const difference = differenceOf(was, now, modes);
      if (difference) violations.push({ path, ...difference });
    }
  }
  for (const [path, now] of actual) {
    if (!expected.has(path)) violations.push({ path, change: 'added', detail: `new ${describeEntry(now)}` });
  }
  return violations.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * One line naming every violated path (up to `limit`), for a trial's reason.
 *
 * @example
 * describeViolations(violations); // 'prepare.py (content changed), data (replaced by a symlink to /tmp/d)'
 */
export function describeViolations(violations: readonly IntegrityViolation[], limit = 8): string {
  const shown = violations.slice(0, limit).map((violation) => `${violation.path} (${violation.detail})`);
  if (violations.length > limit) shown.push(`and ${violations.length - limit} more`);
  return shown.join(', ');
}

function differenceOf(was: SnapshotEntry, now: SnapshotEntry, modes: ModeComparison): Omit<IntegrityViolation, 'path'> | null {
  if (was.kind !== now.kind) return { change: 'type', detail: `${describeKind(was)} replaced by ${describeEntry(now)}` };
  if (was.kind === 'symlink' && now.kind === 'symlink') {
    return was.target === now.target ? null : { change: 'target', detail: `symlink now points to ${now.target} instead of ${was.target}` };
  }
  if (was.kind === 'file' && now.kind === 'file' && was.sha256 !== now.sha256) return { change: 'content', detail: 'content changed' };
  if (was.kind === 'symlink' || now.kind === 'symlink') return null;
  const mask = modes === 'all' ? 0o7777 : 0o111;
  // A folder's permissions come from the umask of whoever checked it out; only a file's executable bit is git's.
  if (modes === 'executable' && was.kind !== 'file') return null;
  if ((was.mode & mask) !== (now.mode & mask)) return { change: 'mode', detail: `mode ${octal(was.mode)} → ${octal(now.mode)}` };
  return null;
}

function describeKind(entry: SnapshotEntry): string {
  return entry.kind === 'other' ? 'special file' : entry.kind;
}

function describeEntry(entry: SnapshotEntry): string {
  return entry.kind === 'symlink' ? `a symlink to ${entry.target}` : `a ${describeKind(entry)}`;
}

function octal(mode: number): string {
  return mode.toString(8).padStart(3, '0');
}
