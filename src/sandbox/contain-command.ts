/**
 * Turns a shell command into one that runs it contained by bubblewrap: in
 * new user (where the machine allows), PID, IPC and mount namespaces (and,
 * with `network: off`, a network namespace), with every capability dropped
 * and `no_new_privs` set, inside the trial's cgroups, under rlimits. The
 * result is still one `/bin/sh -c` command line, so any executor that runs
 * shell commands can run it.
 *
 * The view of the file system:
 * - the whole host read-only, a minimal /dev (plus accelerator devices), a
 *   fresh /proc;
 * - /tmp, /var/tmp and /run private and empty (sockets of tmux, screen,
 *   ssh-agent, Docker and the system bus live there: a root process that
 *   can connect to them is outside any sandbox);
 * - `readable` folders brought back read-only (the repository, when it
 *   lives under /tmp);
 * - `covered` folders replaced by an empty one (Strata's state folder),
 *   made read-only once everything inside is mounted;
 * - `writable` folders bound read-write (the worktree, artifacts, HOME, TMPDIR);
 * - `readOnlyInside` paths bound read-only again (the worktree's `.git` pointer);
 * - `hidden` paths covered: a file by an empty file, a folder by a
 *   read-only folder that says why; `replaced` files by a given copy.
 * Mounts are made parents first (inMountOrder), so each shows where it is
 * meant to.
 * Without capabilities no process inside can unmount, remount or mount
 * anything, so none of this can be undone from within.
 */
import { lstatSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { shellCommand, shellQuote } from './shell-quote.ts';

/** How bubblewrap works on this machine (probed by sandbox-capabilities.ts). */
export interface BubblewrapSupport {
  path: string;
  /** `--unshare-user`: the process gets a user namespace of its own (needed unless root or bwrap is setuid). */
  userNamespace: boolean;
  /** `--disable-userns` (bubblewrap 0.8+): no nested user namespace, so none of the kernel surface they open. */
  blockNestedUserNamespaces: boolean;
  /** `--unshare-net` works: `network: off` can be enforced. */
  network: boolean;
  /** coreutils `env --default-signal`: bubblewrap can ignore SIGTERM while the trial still gets it (a graceful stop at budget + grace). */
  gracefulStop: boolean;
}

/** What the contained process may see and do. */
export interface Containment {
  /** false: a new network namespace with only loopback. */
  network: boolean;
  /** Brought back read-only after the private folders are made (the repository root, holdout data for the holdout stage). */
  readable: readonly string[];
  /** Replaced by an empty folder in which only `writable` paths appear (Strata's state folder). */
  covered: readonly string[];
  /** Read-write: the process's own folders. */
  writable: readonly string[];
  /** Inside writable folders, bound read-only again. */
  readOnlyInside: readonly string[];
  /** Covered up: a file by an empty file, a folder by `markerDir` (the ledger, logs, holdout data, credentials). */
  hidden: readonly string[];
  /** Files shown in place of others, read-only (a copy of the git config without the credentials in remote URLs). */
  replaced?: readonly { path: string; source: string }[];
  /** A read-only folder holding STRATA-HIDDEN.txt, bound over hidden folders. */
  markerDir: string;
  /** Where bubblewrap writes its JSON status (`exit-code` once the command ran): its absence after a failure means the sandbox could not be set up. */
  statusFile?: string;
  /** cgroup.procs files the process joins before anything else starts. */
  cgroupProcs: readonly string[];
  /** rlimits for `prlimit`, used where cgroups are not available. */
  rlimits?: { addressSpaceBytes?: number; processes?: number; prlimit: string };
}

/** The line the sandbox prints when it killed processes a trial left behind. */
export const LEFTOVER_MARKER = 'strata sandbox: killed processes the trial left running:';

/** The text of STRATA-HIDDEN.txt in every hidden folder. */
export const HIDDEN_NOTE = 'Strata hides this folder from sandboxed processes (the ledger, logs, holdout data or credentials); see research.holdout_data and env_passthrough in the README.\n';

/** Empty and private in every sandbox; the host's copies hold other sessions' sockets. */
const PRIVATE_FOLDERS = ['/tmp', '/var/tmp', '/run', '/var/run'];
/** System files a process needs that may live in a private folder (systemd-resolved keeps resolv.conf in /run). */
const KEEP_THROUGH = ['/etc/resolv.conf', '/etc/hosts', '/etc/localtime'];
/** /dev entries of accelerators and their fabrics (NVIDIA, AMD, Intel and Habana, AWS Neuron, RDMA). */
const DEVICE_NAMES = /^(nvidia[\w-]*|dri|kfd|accel|neuron\d+|hl\d+|hl_controlD\d+|infiniband)$/;

/**
 * Runs as the first process inside the sandbox: the trial's command as its
 * child, then a look at /proc (the namespace's own) for anything the
 * command left running, which dies with the namespace when this shell
 * exits. On SIGTERM (a stop, or budget + grace) every process of the trial
 * got the signal too: the command's own shell may die of it at once while
 * the trainer under it saves a checkpoint, so this shell then waits for the
 * rest to finish, until the SIGKILL that follows.
 */
const WRAPPER = `stopping=
trap 'stopping=1' TERM INT
others() {
  left=
  for entry in /proc/[0-9]*; do
    pid=\${entry#/proc/}
    [ "$pid" = 1 ] || [ "$pid" = "$$" ] && continue
    read -r stat < "$entry/stat" 2>/dev/null || continue
    state=\${stat#*) }; state=\${state%% *}
    [ "$state" = Z ] && continue
    name=\${stat#*(}; name=\${name%%)*}
    left="$left $name($pid)"
  done
}
/bin/sh -c "$1"
status=$?
others
while [ -n "$stopping" ] && [ -n "$left" ]; do sleep 0.1; others; done
[ -n "$left" ] && echo "${LEFTOVER_MARKER}$left" >&2
exit $status
`;

/**
 * The contained command line for `/bin/sh -c`.
 *
 * @example
 * containCommand('python train.py', { network: false, readable: [repo], covered: [stateDir], writable: [worktree], readOnlyInside: [], hidden: [ledger], markerDir, cgroupProcs: [] }, support);
 * // "trap '' TERM INT\nexec '/usr/bin/bwrap' '--unshare-user' … '--unshare-net' … '--' 'env' '--default-signal=TERM,INT' '/bin/sh' '-c' '…' 'strata-sandbox' 'python train.py'"
 */
export function containCommand(command: string, containment: Containment, support: BubblewrapSupport | null): string {
  // Joining can fail for a moment on a loaded cgroup v1 hierarchy (EBUSY while the kernel settles a removed sibling): try three times.
  const prefix: string[] = containment.cgroupProcs.map(
    (file) =>
      `{ echo $$ > ${shellQuote(file)} || { sleep 0.2; echo $$ > ${shellQuote(file)}; } || { sleep 0.5; echo $$ > ${shellQuote(file)}; }; } || { echo ${shellQuote(`strata sandbox: could not join the cgroup ${file}`)} >&2; exit 125; }`,
  );
  const rlimits = containment.rlimits;
  const limitArgv =
    rlimits && (rlimits.addressSpaceBytes !== undefined || rlimits.processes !== undefined)
      ? [
          rlimits.prlimit,
          ...(rlimits.addressSpaceBytes !== undefined ? [`--as=${rlimits.addressSpaceBytes}`] : []),
          ...(rlimits.processes !== undefined ? [`--nproc=${rlimits.processes}`] : []),
          '--',
        ]
      : [];
  if (support === null) return [...prefix, `exec ${shellCommand([...limitArgv, '/bin/sh', '-c', command])}`].join('\n');
  // bubblewrap dies of SIGTERM and takes the namespace with it; ignoring it there (and restoring it inside) lets the trial stop gracefully.
  if (support.gracefulStop) prefix.push(`trap '' TERM INT`);
  const status = containment.statusFile ? ` 3>${shellQuote(containment.statusFile)}` : '';
  return [...prefix, `exec ${shellCommand([...limitArgv, ...bubblewrapArgv(command, containment, support)])}${status}`].join('\n');
}

/** bubblewrap's arguments, in the order the mounts must be made (see the file comment). */
export function bubblewrapArgv(command: string, containment: Containment, support: BubblewrapSupport): string[] {
  const argv = [support.path];
  if (support.userNamespace) argv.push('--unshare-user', ...(support.blockNestedUserNamespaces ? ['--disable-userns'] : []));
  argv.push('--unshare-pid', '--unshare-ipc', '--die-with-parent', '--cap-drop', 'ALL');
  if (!containment.network) argv.push('--unshare-net');
  if (containment.statusFile) argv.push('--json-status-fd', '3');
  argv.push('--ro-bind', '/', '/', '--dev', '/dev');
  for (const device of acceleratorDevices()) argv.push('--dev-bind-try', device, device);
  argv.push('--proc', '/proc');
  const privates = PRIVATE_FOLDERS.filter(isRealDirectory);
  const covered = [...new Set(containment.covered.map(realPath).filter(isPresent))];
  const underCover = (path: string) => covered.some((folder) => isInside(path, folder));
  const keptThrough = KEEP_THROUGH.map(realPath).filter((path): path is string => path !== null && privates.some((folder) => isInside(path, folder)));
  const resolved = (paths: readonly string[]) => paths.map(realPath).filter(isPresent);
  // Each mount in the order of its rank among equals; a path named twice keeps the later one (writable beats readable).
  const mounts: Mount[] = [
    ...privates.map((path) => ({ path, rank: 0, args: ['--tmpfs', path] })),
    ...[...resolved(containment.readable), ...keptThrough].map((path) => ({ path, rank: 1, args: ['--ro-bind', path, path] })),
    ...covered.map((path) => ({ path, rank: 2, args: ['--tmpfs', path] })),
    ...resolved(containment.writable).map((path) => ({ path, rank: 3, args: ['--bind', path, path] })),
    ...resolved(containment.readOnlyInside).map((path) => ({ path, rank: 4, args: ['--ro-bind', path, path] })),
    // Inside a covered folder a hidden path is gone already; binding over it would only make a mount point there.
    ...resolved(containment.hidden)
      .filter((path) => !underCover(path))
      .map((path) => ({ path, rank: 5, args: ['--ro-bind', isDirectory(path) ? containment.markerDir : '/dev/null', path] })),
    ...(containment.replaced ?? []).map(({ path, source }) => ({ path, rank: 6, args: ['--ro-bind', source, path] })),
  ];
  for (const mount of inMountOrder(mounts)) argv.push(...mount.args);
  for (const folder of covered) argv.push('--remount-ro', folder);
  return [...argv, '--', ...(support.gracefulStop ? ['env', '--default-signal=TERM,INT'] : []), '/bin/sh', '-c', WRAPPER, 'strata-sandbox', command];
}

/** The accelerator device nodes of this machine, each to be bound into the sandbox's /dev. */
export function acceleratorDevices(): string[] {
  let names: string[];
  try {
    names = readdirSync('/dev');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return names.filter((name) => DEVICE_NAMES.test(name)).map((name) => join('/dev', name));
}

/** The path with every symlink resolved (bubblewrap mounts on what a path finally names); null when it does not exist. */
function realPath(path: string): string | null {
  try {
    return realpathSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return null;
    throw error;
  }
}

function isPresent(path: string | null): path is string {
  return path !== null;
}

interface Mount {
  path: string;
  /** Among mounts on the same path, the higher rank is made later and so is what shows. */
  rank: number;
  args: string[];
}

/**
 * Parents before children, whatever kind of mount each is: a folder's mount
 * made after one inside it would cover it (the repository bound after the
 * cover on its state folder would bring the ledger back). On one path, the
 * highest rank alone.
 */
function inMountOrder(mounts: readonly Mount[]): Mount[] {
  const last = new Map<string, Mount>();
  for (const mount of mounts) {
    const seen = last.get(mount.path);
    if (!seen || seen.rank <= mount.rank) last.set(mount.path, mount);
  }
  const depth = (path: string) => (path === '/' ? 0 : path.split('/').length - 1);
  return [...last.values()].sort((a, b) => depth(a.path) - depth(b.path) || a.rank - b.rank || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function isInside(path: string, folder: string): boolean {
  return path === folder || path.startsWith(folder.endsWith('/') ? folder : `${folder}/`);
}

function isDirectory(path: string): boolean {
  return statSync(path).isDirectory();
}

/** A folder that is not a symlink (/var/run usually points at /run, which is made private already). */
function isRealDirectory(path: string): boolean {
  try {
    return lstatSync(path).isDirectory();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
