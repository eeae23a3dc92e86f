/**
 * Turns a trial's shell command into one that runs it contained: in new
 * PID, mount (and, with `network: off`, network) namespaces, inside the
 * trial's cgroups, under rlimits. The result is still one `/bin/sh -c`
 * command line, so any executor that runs shell commands can run it.
 */
import { statSync } from 'node:fs';
import type { NamespaceSupport } from './sandbox-capabilities.ts';
import { shellCommand, shellQuote } from './shell-quote.ts';

/** What the contained process may see and do. */
export interface Containment {
  /** false: a new network namespace with only loopback. */
  network: boolean;
  /** Folders made read-only (the user's repository, Strata's state folder). */
  readOnly: readonly string[];
  /** Folders inside those that stay writable (the trial's worktree, artifacts, HOME, TMPDIR). */
  writable: readonly string[];
  /** Paths covered up: a folder by an empty read-only tmpfs, a file by /dev/null (the ledger, logs, holdout data). */
  hidden: readonly string[];
  /** cgroup.procs files the process joins before anything else starts. */
  cgroupProcs: readonly string[];
  /** rlimits for `prlimit`, used where cgroups are not available. */
  rlimits?: { addressSpaceBytes?: number; processes?: number; prlimit: string };
}

/**
 * Runs as PID 1 of the new namespace: makes the mounts named by its
 * arguments (sections --ro, --rw, --hide), brings up loopback, then runs the
 * trial's command as its child, not with exec, so that when the command
 * ends this shell exits and the kernel kills everything left in the
 * namespace, daemons that called setsid included.
 */
const SETUP_SCRIPT = `
trial_command=$1; network=$2; shift 2
trial_path=$PATH; PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
mode=
fail() { echo "strata sandbox: $1" >&2; exit 125; }
for path do
  case $path in --ro|--rw|--hide) mode=$path; continue ;; esac
  if [ ! -e "$path" ] && [ ! -L "$path" ]; then continue; fi
  case $mode in
    --ro) { mount --bind "$path" "$path" && mount -o remount,bind,ro "$path"; } || fail "could not make $path read-only" ;;
    --rw) { mount --bind "$path" "$path" && mount -o remount,bind,rw "$path"; } || fail "could not keep $path writable" ;;
    --hide)
      if [ -d "$path" ]; then
        { mount -t tmpfs -o size=16k,mode=755 strata-hidden "$path" &&
          echo "Strata hides this folder from trials (the ledger, logs, holdout data or credentials); see research.holdout_data." > "$path/STRATA-HIDDEN.txt" &&
          mount -o remount,ro "$path"; } || fail "could not hide $path"
      else mount --bind /dev/null "$path" || fail "could not hide $path"; fi ;;
  esac
done
if [ "$network" = off ] && command -v ip >/dev/null 2>&1; then ip link set lo up 2>/dev/null; fi
PATH=$trial_path
/bin/sh -c "$trial_command"
status=$?
# This shell is PID 1 of a namespace with its own /proc: anything still listed there was left behind by the trial.
read -r self < /proc/self/stat 2>/dev/null
if [ "$$" = 1 ] && [ "\${self%% *}" = 1 ]; then
  left=
  for entry in /proc/[0-9]*; do
    pid=\${entry#/proc/}
    [ "$pid" = 1 ] && continue
    read -r stat < "$entry/stat" 2>/dev/null || continue
    state=\${stat#*) }; state=\${state%% *}
    [ "$state" = Z ] && continue
    name=\${stat#*(}; name=\${name%%)*}
    left="$left $name($pid)"
  done
  [ -n "$left" ] && echo "strata sandbox: killed processes the trial left running:$left" >&2
fi
exit $status
`;

/** The line the sandbox prints when it killed processes a trial left behind. */
export const LEFTOVER_MARKER = 'strata sandbox: killed processes the trial left running:';

/**
 * The contained command line for `/bin/sh -c`.
 *
 * @example
 * containCommand('python train.py', { network: false, readOnly: [repo], writable: [worktree], hidden: [ledger], cgroupProcs: [] }, support);
 * // "exec '/usr/bin/unshare' '--mount' '--pid' … '--net' '--' '/bin/sh' '-c' '…' 'strata-sandbox' 'python train.py' 'off' '--ro' …"
 */
export function containCommand(command: string, containment: Containment, support: NamespaceSupport | null): string {
  const prefix: string[] = containment.cgroupProcs.map((file) => `echo $$ > ${shellQuote(file)} || { echo ${shellQuote(`strata sandbox: could not join the cgroup ${file}`)} >&2; exit 125; }`);
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
  const argv = support.tool === 'unshare' ? unshareArgv(command, containment, support) : bubblewrapArgv(command, containment, support);
  return [...prefix, `exec ${shellCommand([...limitArgv, ...argv])}`].join('\n');
}

function unshareArgv(command: string, containment: Containment, support: NamespaceSupport): string[] {
  const namespaces = [
    ...(support.userNamespace ? ['--user', '--map-root-user'] : []),
    ...(support.mount ? ['--mount', '--propagation', 'private'] : []),
    ...(support.pid ? ['--pid', '--fork', '--kill-child', ...(support.mount ? ['--mount-proc'] : [])] : []),
    ...(!containment.network ? ['--net'] : []),
  ];
  const mounts = support.mount
    ? [...section('--ro', containment.readOnly), ...section('--rw', containment.writable), ...section('--hide', containment.hidden)]
    : [];
  return [support.path, ...namespaces, '--', '/bin/sh', '-c', SETUP_SCRIPT, 'strata-sandbox', command, containment.network ? 'on' : 'off', ...mounts];
}

/** bubblewrap makes the mounts itself, brings up loopback, and is the namespace's init (it exits when the command does). */
function bubblewrapArgv(command: string, containment: Containment, support: NamespaceSupport): string[] {
  const argv = [support.path, '--dev-bind', '/', '/', '--die-with-parent', '--unshare-pid', '--proc', '/proc'];
  if (!containment.network) argv.push('--unshare-net');
  for (const path of containment.readOnly) argv.push('--ro-bind-try', path, path);
  for (const path of containment.writable) argv.push('--bind-try', path, path);
  for (const path of containment.hidden) {
    const kind = kindOf(path);
    if (kind === 'directory') argv.push('--tmpfs', path, '--remount-ro', path);
    else if (kind === 'other') argv.push('--ro-bind', '/dev/null', path);
  }
  return [...argv, '--', '/bin/sh', '-c', command];
}

function section(flag: string, paths: readonly string[]): string[] {
  return paths.length === 0 ? [] : [flag, ...paths];
}

function kindOf(path: string): 'directory' | 'other' | 'missing' {
  try {
    return statSync(path).isDirectory() ? 'directory' : 'other';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw error;
  }
}
