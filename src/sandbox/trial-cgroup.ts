/**
 * A cgroup per trial (v1 memory + pids hierarchies, or one v2 folder): hard
 * memory and process-count limits for the whole process tree, a count of
 * OOM kills, and a last sweep that kills whatever is still in it, so a
 * daemon that escaped its process group cannot outlive the trial even where
 * PID namespaces are not available.
 */
import { mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { StrataError, errorMessage } from '../core/errors.ts';
import type { CgroupSupport } from './sandbox-capabilities.ts';

export interface CgroupLimits {
  memoryBytes?: number;
  processes?: number;
}

export class TrialCgroup {
  /** The cgroup folders (one per v1 hierarchy, one for v2). */
  readonly folders: readonly string[];
  private readonly support: CgroupSupport;

  private constructor(support: CgroupSupport, folders: string[]) {
    this.support = support;
    this.folders = folders;
  }

  /**
   * Create the trial's cgroup(s) named `name` and write the limits.
   *
   * @example
   * const cgroup = await TrialCgroup.create(support, 'strata-1234-7', { memoryBytes: 8 * 2 ** 30, processes: 512 });
   * // the trial's shell runs `echo $$ > <folder>/cgroup.procs` for each of cgroup.procsFiles
   */
  static async create(support: CgroupSupport, name: string, limits: CgroupLimits): Promise<TrialCgroup> {
    const folders: string[] = [];
    const writes: [string, string][] = [];
    if (support.version === 1) {
      if (support.memoryParent) {
        const folder = join(support.memoryParent, name);
        folders.push(folder);
        if (limits.memoryBytes !== undefined) {
          writes.push([join(folder, 'memory.limit_in_bytes'), String(limits.memoryBytes)]);
          // Without this, swap would let the tree exceed the limit instead of being killed.
          writes.push([join(folder, 'memory.memsw.limit_in_bytes'), String(limits.memoryBytes)]);
        }
      }
      if (support.pidsParent) {
        const folder = join(support.pidsParent, name);
        folders.push(folder);
        if (limits.processes !== undefined) writes.push([join(folder, 'pids.max'), String(limits.processes)]);
      }
    } else {
      const folder = join(support.parent, name);
      folders.push(folder);
      if (limits.memoryBytes !== undefined) {
        writes.push([join(folder, 'memory.max'), String(limits.memoryBytes)]);
        writes.push([join(folder, 'memory.swap.max'), '0']);
      }
      if (limits.processes !== undefined) writes.push([join(folder, 'pids.max'), String(limits.processes)]);
    }
    const cgroup = new TrialCgroup(support, folders);
    try {
      for (const folder of folders) {
        await mkdir(dirname(folder), { recursive: true });
        // A folder that exists already belongs to someone else (its limits are not ours): take it down first.
        const made = await mkdir(folder).then(
          () => true,
          (error: NodeJS.ErrnoException) => {
            if (error.code !== 'EEXIST') throw error;
            return false;
          },
        );
        if (!made) {
          await new TrialCgroup(support, [folder]).killAndRemove();
          await mkdir(folder);
        }
      }
      for (const [file, value] of writes) {
        await writeFile(file, value).catch((error: NodeJS.ErrnoException) => {
          // memsw/swap files exist only when the kernel accounts swap; the memory limit itself still holds.
          if (error.code === 'ENOENT' && /memsw|swap/.test(file)) return;
          throw error;
        });
      }
    } catch (error) {
      await cgroup.remove();
      throw new StrataError('sandbox_cgroup_failed', `could not set up the trial's cgroup ${folders.join(', ')}: ${errorMessage(error)}`, { cause: error, details: { folders } });
    }
    return cgroup;
  }

  /**
   * Remove the trial cgroups an orchestrator that died (kill -9, OOM) left
   * behind: `strata-<pid>-…` folders whose pid is gone, swept of any process
   * still in them. Returns how many were removed.
   *
   * @example
   * await TrialCgroup.removeStale(capabilities.cgroup);
   */
  static async removeStale(support: CgroupSupport): Promise<number> {
    const parents = support.version === 1 ? [support.memoryParent, support.pidsParent].filter((parent): parent is string => parent !== null) : [support.parent];
    const byName = new Map<string, string[]>();
    for (const parent of parents) {
      for (const entry of await readdir(parent).catch(() => [] as string[])) {
        const owner = /^strata-(\d+)-/.exec(entry)?.[1];
        if (owner === undefined || processAlive(Number(owner))) continue;
        byName.set(entry, [...(byName.get(entry) ?? []), join(parent, entry)]);
      }
    }
    for (const folders of byName.values()) await new TrialCgroup(support, folders).killAndRemove();
    return byName.size;
  }

  /** The files a process writes its pid into to join. */
  get procsFiles(): string[] {
    return this.folders.map((folder) => join(folder, 'cgroup.procs'));
  }

  /** How many times the kernel killed a process of this trial for memory. */
  async oomKills(): Promise<number> {
    const file = this.support.version === 1 ? 'memory.oom_control' : 'memory.events';
    const folder = this.support.version === 1 ? this.folders.find((path) => path.includes('/memory/')) : this.folders[0];
    if (!folder) return 0;
    const text = await readFile(join(folder, file), 'utf8').catch(() => '');
    const match = /^oom_kill (\d+)$/m.exec(text);
    return match ? Number(match[1]) : 0;
  }

  /** SIGKILL everything still in the cgroup, wait for it to empty, remove it. Returns the pids that had to be killed. */
  async killAndRemove(): Promise<number[]> {
    const killed = new Set<number>();
    const deadline = Date.now() + 5000;
    for (;;) {
      const pids = await this.members();
      if (pids.length === 0 || Date.now() > deadline) break;
      for (const pid of pids) {
        killed.add(pid);
        try {
          process.kill(pid, 'SIGKILL');
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await this.remove();
    return [...killed];
  }

  private async members(): Promise<number[]> {
    const pids = new Set<number>();
    for (const file of this.procsFiles) {
      const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
        // The cgroup may be removed while we read it (ENODEV on cgroup v1): it has no members then.
        if (error.code === 'ENOENT' || error.code === 'ENODEV') return '';
        throw error;
      });
      for (const line of text.split('\n')) if (line.trim()) pids.add(Number(line));
    }
    return [...pids];
  }

  private async remove(): Promise<void> {
    for (const folder of this.folders) {
      // A cgroup whose last tasks were just killed stays busy until the kernel has reaped them: wait a little.
      for (let attempt = 0; ; attempt++) {
        const error = await rmdir(folder).then(
          () => undefined,
          (failure: NodeJS.ErrnoException) => failure,
        );
        if (!error || error.code === 'ENOENT') break;
        if (error.code === 'EBUSY' && attempt < 40) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          continue;
        }
        throw new StrataError('sandbox_cgroup_failed', `could not remove the trial's cgroup ${folder}: ${error.message}`, { cause: error, details: { folder } });
      }
    }
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
