/**
 * What this machine lets Strata do to contain a process: bubblewrap with
 * every capability dropped (and a user namespace where the machine allows),
 * cgroups for memory and process limits, `prlimit` as the fallback. Probed
 * once per process by running the very setup a trial gets and checking,
 * from inside, that it holds: a binary on the PATH proves nothing
 * (containers and AppArmor often forbid namespaces, and a root bwrap keeps
 * every capability unless told otherwise).
 */
import { execFile } from 'node:child_process';
import { constants, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { errorMessage } from '../core/errors.ts';
import { containCommand, HIDDEN_NOTE, type BubblewrapSupport } from './contain-command.ts';

const run = promisify(execFile);

/** Where a trial's cgroups can be created. */
export type CgroupSupport =
  | { version: 1; memoryParent: string | null; pidsParent: string | null }
  | { version: 2; parent: string; memory: boolean; pids: boolean };

export interface SandboxCapabilities {
  /** How processes are contained here; null when bubblewrap is missing or cannot give what a trial needs. */
  namespaces: BubblewrapSupport | null;
  cgroup: CgroupSupport | null;
  prlimit: string | null;
  isRoot: boolean;
  /** Why a probe failed, for the message that says what to install or allow. */
  notes: string[];
}

/** What to do when bubblewrap cannot be had, for every message that says so. */
export const HOW_TO_GET_BUBBLEWRAP =
  'install bubblewrap (apt-get install bubblewrap, dnf install bubblewrap) and, unless Strata runs as root, let unprivileged users create user namespaces (sysctl kernel.unprivileged_userns_clone=1; on Ubuntu 24.04 also kernel.apparmor_restrict_unprivileged_userns=0)';

let cached: Promise<SandboxCapabilities> | undefined;

/**
 * Probe once per process (later calls share the answer).
 *
 * @example
 * const capabilities = await probeSandbox();
 * if (!capabilities.namespaces?.network) throw new SandboxUnavailableError('network: off needs …');
 */
export function probeSandbox(): Promise<SandboxCapabilities> {
  cached ??= probe();
  return cached;
}

async function probe(): Promise<SandboxCapabilities> {
  const notes: string[] = [];
  const isRoot = process.getuid?.() === 0;
  const bwrap = await findExecutable('bwrap');
  let namespaces: BubblewrapSupport | null = null;
  if (process.platform !== 'linux') notes.push(`${process.platform} has no Linux namespaces`);
  else if (!bwrap) notes.push('bubblewrap (bwrap) is not on the PATH');
  else namespaces = await probeBubblewrap(bwrap, notes);
  return { namespaces, cgroup: await probeCgroup(notes), prlimit: await findExecutable('prlimit'), isRoot, notes };
}

/**
 * The first setup that holds, strongest first: a user namespace with nested
 * ones refused, a user namespace, then none (root, or a setuid bwrap); each
 * with a network namespace when it can have one.
 */
async function probeBubblewrap(path: string, notes: string[]): Promise<BubblewrapSupport | null> {
  const gracefulStop = await works('env', ['--default-signal=TERM,INT', 'true']);
  if (!gracefulStop) notes.push('env --default-signal (coreutils 8.31+) is missing: a trial is killed at once at budget + grace instead of getting SIGTERM first');
  const variants: Omit<BubblewrapSupport, 'network'>[] = [
    { path, userNamespace: true, blockNestedUserNamespaces: true, gracefulStop },
    { path, userNamespace: true, blockNestedUserNamespaces: false, gracefulStop },
    { path, userNamespace: false, blockNestedUserNamespaces: false, gracefulStop },
  ];
  for (const variant of variants) {
    for (const network of [true, false]) {
      const support = { ...variant, network };
      const problem = await checkSetup(support);
      if (problem === null) return support;
      notes.push(`bwrap${variant.userNamespace ? ' --unshare-user' : ''}${variant.blockNestedUserNamespaces ? ' --disable-userns' : ''}${network ? ' --unshare-net' : ''}: ${problem}`);
    }
  }
  return null;
}

/** The checks the probe's contained shell makes, each printing `name=value`. */
const CHECKS = `
caps=$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status)
nnp=$(sed -n 's/^NoNewPrivs:[[:space:]]*//p' /proc/self/status)
( echo x > "$PROBE/repo/file" ) 2>/dev/null && repo=rw || repo=ro
( echo x > "$PROBE/repo/.strata/work/file" ) 2>/dev/null && work=rw || work=ro
( echo x > "$PROBE/repo/.strata/work/.git" ) 2>/dev/null && pointer=rw || pointer=ro
secret=$(cat "$PROBE/repo/secret" 2>/dev/null)
hidden=$(ls "$PROBE/repo/hidden" 2>/dev/null | tr '\n' ' ')
state=$(ls -A "$PROBE/repo/.strata" 2>/dev/null | tr '\n' ' ')
echo "caps=$caps nnp=$nnp repo=$repo work=$work pointer=$pointer secret=[$secret] hidden=[$hidden] state=[$state]"
`;

/** Run the setup a trial gets in a scratch layout and check from inside that it holds; null when it does, else what failed. */
async function checkSetup(support: BubblewrapSupport): Promise<string | null> {
  const root = mkdtempSync(join(tmpdir(), 'strata-probe-'));
  try {
    const repo = join(root, 'repo');
    const work = join(repo, '.strata', 'work');
    const marker = join(root, 'marker');
    for (const folder of [work, join(repo, 'hidden'), marker]) mkdirSync(folder, { recursive: true });
    writeFileSync(join(repo, 'file'), 'original');
    writeFileSync(join(repo, 'secret'), 'visible');
    writeFileSync(join(repo, 'hidden', 'data'), 'visible');
    writeFileSync(join(work, '.git'), 'gitdir: elsewhere');
    writeFileSync(join(marker, 'STRATA-HIDDEN.txt'), HIDDEN_NOTE);
    const command = containCommand(
      CHECKS,
      {
        network: !support.network,
        readable: [repo],
        covered: [join(repo, '.strata')],
        writable: [work],
        readOnlyInside: [join(work, '.git')],
        hidden: [join(repo, 'secret'), join(repo, 'hidden')],
        markerDir: marker,
        cgroupProcs: [],
      },
      support,
    );
    let stdout: string;
    try {
      ({ stdout } = await run('/bin/sh', ['-c', command], { timeout: 10_000, env: { ...process.env, PROBE: root } }));
    } catch (error) {
      return firstLine(error);
    }
    const seen = stdout.trim().split('\n').at(-1) ?? '';
    const expected = 'nnp=1 repo=ro work=rw pointer=ro secret=[] hidden=[STRATA-HIDDEN.txt ] state=[work ]';
    if (!/^caps=0+ /.test(seen)) return `the sandboxed process kept capabilities (${seen.split(' ')[0]})`;
    if (seen.slice(seen.indexOf(' ') + 1) !== expected) return `the sandbox did not hold: expected ${expected}, saw ${seen}`;
    return null;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

async function works(file: string, args: string[]): Promise<boolean> {
  try {
    await run(file, args, { timeout: 10_000 });
    return true;
  } catch {
    return false; // not installed, or too old for the option: either way it cannot be used
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
