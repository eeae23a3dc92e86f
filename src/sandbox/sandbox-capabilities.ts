/**
 * What this machine lets Strata do to contain a trial: Linux namespaces
 * through util-linux `unshare` (or bubblewrap), cgroups for memory and
 * process limits, `prlimit` as the fallback. Probed once per process by
 * actually trying, because a binary on the PATH proves nothing (containers
 * and AppArmor often forbid unprivileged namespaces).
 */
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { errorMessage } from '../core/errors.ts';

const run = promisify(execFile);

/** How processes can be put in new namespaces here. */
export interface NamespaceSupport {
  tool: 'unshare' | 'bwrap';
  path: string;
  /** Whether a user namespace is needed (Strata is not root): `unshare --map-root-user`. */
  userNamespace: boolean;
  /** New network namespace (no network but loopback). */
  network: boolean;
  /** New PID namespace with /proc remounted; its processes die with its first one. */
  pid: boolean;
  /** New mount namespace (read-only repository, hidden ledger and holdout data). */
  mount: boolean;
}

/** Where a trial's cgroups can be created. */
export type CgroupSupport =
  | { version: 1; memoryParent: string | null; pidsParent: string | null }
  | { version: 2; parent: string; memory: boolean; pids: boolean };

export interface SandboxCapabilities {
  namespaces: NamespaceSupport | null;
  cgroup: CgroupSupport | null;
  prlimit: string | null;
  isRoot: boolean;
  /** Why a probe failed, for the message that says what to install or allow. */
  notes: string[];
}

let cached: Promise<SandboxCapabilities> | undefined;

/**
 * Probe once per process (later calls share the answer).
 *
 * @example
 * const capabilities = await probeSandbox();
 * if (!capabilities.namespaces?.network) throw new SandboxUnavailableError('network: off', capabilities);
 */
export function probeSandbox(): Promise<SandboxCapabilities> {
  cached ??= probe();
  return cached;
}

async function probe(): Promise<SandboxCapabilities> {
  const notes: string[] = [];
  const isRoot = process.getuid?.() === 0;
  const unshare = await findExecutable('unshare');
  const bwrap = await findExecutable('bwrap');
  let namespaces: NamespaceSupport | null = null;
  if (unshare) namespaces = await probeUnshare(unshare, isRoot, notes);
  else notes.push('unshare (util-linux) is not on the PATH');
  if ((!namespaces || !namespaces.network || !namespaces.pid || !namespaces.mount) && bwrap) {
    const viaBwrap = await probeBubblewrap(bwrap, notes);
    if (viaBwrap && (!namespaces || score(viaBwrap) > score(namespaces))) namespaces = viaBwrap;
  } else if (!bwrap && !namespaces) notes.push('bubblewrap (bwrap) is not on the PATH');
  return { namespaces, cgroup: await probeCgroup(notes), prlimit: await findExecutable('prlimit'), isRoot, notes };
}

function score(support: NamespaceSupport): number {
  return Number(support.network) + Number(support.pid) + Number(support.mount);
}

async function probeUnshare(path: string, isRoot: boolean, notes: string[]): Promise<NamespaceSupport | null> {
  const user = isRoot ? [] : ['--user', '--map-root-user'];
  const works = async (args: string[]) => {
    try {
      await run(path, [...user, ...args, '--', '/bin/true'], { timeout: 10_000 });
      return true;
    } catch (error) {
      notes.push(`unshare ${[...user, ...args].join(' ')} failed: ${firstLine(error)}`);
      return false;
    }
  };
  if (await works(['--net', '--mount', '--pid', '--fork', '--kill-child', '--mount-proc'])) {
    return { tool: 'unshare', path, userNamespace: !isRoot, network: true, pid: true, mount: true };
  }
  const network = await works(['--net']);
  const pidAndMount = await works(['--mount', '--pid', '--fork', '--kill-child', '--mount-proc']);
  if (!network && !pidAndMount) return null;
  return { tool: 'unshare', path, userNamespace: !isRoot, network, pid: pidAndMount, mount: pidAndMount };
}

async function probeBubblewrap(path: string, notes: string[]): Promise<NamespaceSupport | null> {
  try {
    await run(path, ['--dev-bind', '/', '/', '--unshare-net', '--unshare-pid', '--die-with-parent', '--proc', '/proc', '--', '/bin/true'], { timeout: 10_000 });
    return { tool: 'bwrap', path, userNamespace: false, network: true, pid: true, mount: true };
  } catch (error) {
    notes.push(`bwrap --unshare-net --unshare-pid failed: ${firstLine(error)}`);
    return null;
  }
}

/** A cgroup folder this process may create children in, with the memory and pids controllers. */
async function probeCgroup(notes: string[]): Promise<CgroupSupport | null> {
  const membership = await readFile('/proc/self/cgroup', 'utf8').catch(() => '');
  const lines = membership.split('\n').filter(Boolean);
  const unified = lines.find((line) => line.startsWith('0::'));
  const v1 = (controller: string) => {
    const line = lines.find((entry) => entry.split(':')[1]?.split(',').includes(controller));
    return line === undefined ? null : join('/sys/fs/cgroup', controller, line.split(':').slice(2).join(':'));
  };
  const memoryParent = await writableDirectory(v1('memory'));
  const pidsParent = await writableDirectory(v1('pids'));
  if (memoryParent || pidsParent) return { version: 1, memoryParent, pidsParent };
  if (unified) {
    const parent = await writableDirectory(join('/sys/fs/cgroup', unified.slice(3)));
    if (parent) {
      const controllers = (await readFile(join(parent, 'cgroup.subtree_control'), 'utf8').catch(() => '')).split(/\s+/);
      if (controllers.includes('memory') || controllers.includes('pids')) {
        return { version: 2, parent, memory: controllers.includes('memory'), pids: controllers.includes('pids') };
      }
      notes.push(`cgroup v2 folder ${parent} does not delegate the memory or pids controller to its children`);
    }
  }
  notes.push('no writable cgroup with the memory or pids controller');
  return null;
}

async function writableDirectory(path: string | null): Promise<string | null> {
  if (path === null) return null;
  try {
    await access(path, constants.W_OK);
    return path;
  } catch {
    return null; // not ours to write: the caller reports that no cgroup is usable
  }
}

async function findExecutable(name: string): Promise<string | null> {
  for (const folder of (process.env.PATH ?? '/usr/bin:/bin').split(delimiter)) {
    if (folder === '') continue;
    const candidate = join(folder, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      continue; // not in this folder
    }
  }
  for (const candidate of [`/usr/bin/${name}`, `/bin/${name}`, `/usr/sbin/${name}`]) {
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      continue; // not there either
    }
  }
  return null;
}

function firstLine(error: unknown): string {
  const stderr = (error as { stderr?: string }).stderr;
  return (stderr?.trim() || errorMessage(error)).split('\n')[0]!.slice(0, 200);
}
