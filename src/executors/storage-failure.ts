import { existsSync, readFileSync, realpathSync, statfsSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { errorMessage } from '../core/errors.ts';

/** Where a path's file system is mounted, and how full it is (Linux: /proc/self/mountinfo and statfs). */
export interface FileSystemFacts {
  /** The mount point holding the path; null where mountinfo cannot be read. */
  mountPoint: string | null;
  /** The file system type (ext4, tmpfs, nfs, …); null when unknown. */
  type: string | null;
  freeBytes: number | null;
  totalBytes: number | null;
}

/**
 * What a failed write to `path` means for the user, in one clause that ends
 * with what to do: a full disk names the mount point and its free space, a
 * failing disk says to check it.
 *
 * @example
 * explainWriteFailure('/repo/.strata/logs/quad/3.log', error);
 * // 'no space left on device (ENOSPC) — the disk is full: the file system mounted at /repo/.strata/logs (tmpfs) has 0 B free of 64 KiB; free space there, then run again to resume'
 */
export function explainWriteFailure(path: string, error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const facts = fileSystemOf(path);
  const where = `the file system mounted at ${facts.mountPoint ?? dirname(path)}${facts.type ? ` (${facts.type})` : ''}`;
  const room = facts.freeBytes !== null && facts.totalBytes !== null ? ` has ${formatBytes(facts.freeBytes)} free of ${formatBytes(facts.totalBytes)}` : '';
  switch (code) {
    case 'ENOSPC':
      return `no space left on device (ENOSPC) — the disk is full: ${where}${room}; free space there, then run again to resume`;
    case 'EDQUOT':
      return `disk quota exceeded (EDQUOT) on ${where}${room}; free space or raise the quota, then run again to resume`;
    case 'EIO':
      return `input/output error (EIO) — the disk under ${where} failed a write; check it (dmesg, the storage's health), then run again to resume`;
    case 'EROFS':
      return `${where} is read-only (EROFS); make it writable, then run again to resume`;
    case 'EFBIG':
      return `the file grew past the largest size ${where} allows (EFBIG); make the command print less, then run again to resume`;
    default:
      return `${errorMessage(error)} (on ${where}); fix the file system, then run again to resume`;
  }
}

/** The mount point, type and free space of the file system holding `path` (or its nearest existing folder). */
export function fileSystemOf(path: string): FileSystemFacts {
  let existing = resolve(path);
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  const real = safely(() => realpathSync(existing)) ?? existing;
  const space = safely(() => statfsSync(real));
  const mount = safely(() => mountOf(real, readFileSync('/proc/self/mountinfo', 'utf8')));
  return {
    mountPoint: mount?.mountPoint ?? null,
    type: mount?.type ?? null,
    freeBytes: space ? space.bavail * space.bsize : null,
    totalBytes: space ? space.blocks * space.bsize : null,
  };
}

/** The deepest mount in a mountinfo text that holds `path` (an absolute, resolved path). */
export function mountOf(path: string, mountinfo: string): { mountPoint: string; type: string } | undefined {
  let best: { mountPoint: string; type: string } | undefined;
  for (const line of mountinfo.split('\n')) {
    // id parent major:minor root mount-point options [optional fields…] - type source super-options
    const fields = line.split(' ');
    const separator = fields.indexOf('-');
    if (fields.length < 5 || separator === -1) continue;
    const mountPoint = unescapeMountinfo(fields[4]!);
    const inside = mountPoint === '/' || path === mountPoint || path.startsWith(mountPoint + sep);
    // Later lines are mounted over earlier ones at the same point.
    if (inside && (!best || mountPoint.length >= best.mountPoint.length)) best = { mountPoint, type: fields[separator + 1] ?? 'unknown' };
  }
  return best;
}

/** mountinfo writes space, tab, newline and backslash as octal escapes. */
function unescapeMountinfo(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_whole, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(value >= 10 ? 0 : 1)} ${units[unit]}`;
}

/** The facts are a courtesy in an error message: one we cannot gather is left out, never a second failure. */
function safely<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}
