/**
 * What Linux's /proc says about one process group: which processes are still
 * alive in it, and how much memory they hold. Used by the process runner to
 * report a trial's peak memory and to confirm its leftovers are gone.
 *
 * Off Linux (no /proc) the sampler reports `null` and member listing is unavailable.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';

/** True where /proc can be read for process groups and memory. */
export const procfsAvailable: boolean = process.platform === 'linux' && existsSync('/proc/self/stat');

/** The longest gap between full /proc scans for new group members. */
const MAX_SCAN_INTERVAL_MS = 2000;

/**
 * The pids of live (not zombie) processes whose process group is `groupId`, from a full /proc scan.
 * A zombie has released its memory and only waits to be reaped by its parent (often a slow init
 * in containers), so it counts as gone.
 *
 * Reads are synchronous on purpose: procfs files are generated in memory, and a synchronous scan
 * is about ten times cheaper than the thread-pool round trips of fs/promises (about 15 µs a process).
 *
 * @example
 * listLiveGroupMembers(child.pid!); // [] once the whole group has exited
 */
export function listLiveGroupMembers(groupId: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const first = entry.charCodeAt(0);
    if (first < 48 || first > 57) continue; // not a pid directory (self, meminfo, ...)
    const stat = readProcStat(Number(entry));
    if (stat && stat.processGroup === groupId && stat.state !== 'Z' && stat.state !== 'X') members.push(stat.pid);
  }
  return members;
}

/** What the sampler saw, when it stopped. */
export interface PeakMemoryReading {
  /** Peak resident memory in KiB (see {@link startPeakMemorySampler}), or null where none was seen or /proc is missing. */
  peakRssKb: number | null;
  /** Why sampling stopped early, if it did. */
  error?: string;
}

/** A running sampler; `stop()` takes one last sample and returns the reading. */
export interface PeakMemorySampler {
  stop(): PeakMemoryReading;
}

/**
 * Samples the memory of a process group every `intervalMs` (default 250 ms) until stopped.
 *
 * What it measures (best effort): the largest of
 * - the sum of VmRSS over the group's live members at any one sample, and
 * - any single member's VmHWM (that process's own lifetime peak RSS) as last seen.
 * So a one-process trainer's spike between samples is still caught; a spike spread over several
 * processes between samples is not. Pages shared between processes (fork, shared memory) are
 * counted once per process. Processes that left the group (setsid, daemons) are not counted, nor
 * is GPU memory. A process that lives less than one interval may be missed entirely.
 *
 * Cost: known members are read every interval; the full /proc scan that finds new members runs at
 * 0, 250, 500, 1000 ms and then every 2 s, so a busy machine with thousands of processes is not
 * rescanned four times a second per trial.
 *
 * @example
 * const sampler = startPeakMemorySampler(child.pid!);
 * // ... child runs ...
 * const { peakRssKb } = sampler.stop();
 */
export function startPeakMemorySampler(groupId: number, options: { intervalMs?: number } = {}): PeakMemorySampler {
  if (!procfsAvailable) {
    return { stop: () => ({ peakRssKb: null }) };
  }
  const intervalMs = options.intervalMs ?? 250;
  let members: number[] = [];
  let nextScanAt = 0;
  let scanIntervalMs = intervalMs;
  let peakKb: number | null = null;
  let failure: string | undefined;
  let timer: NodeJS.Timeout | undefined;

  const sample = (forceScan: boolean): void => {
    const now = performance.now();
    if (forceScan || now >= nextScanAt) {
      members = listLiveGroupMembers(groupId);
      nextScanAt = now + scanIntervalMs;
      scanIntervalMs = Math.min(scanIntervalMs * 2, MAX_SCAN_INTERVAL_MS);
    }
    let totalKb = 0;
    const alive: number[] = [];
    for (const pid of members) {
      const memory = readProcMemory(pid);
      if (!memory) continue; // exited (or a zombie, which has no VmRSS)
      alive.push(pid);
      totalKb += memory.rssKb;
      peakKb = Math.max(peakKb ?? 0, memory.highWaterKb);
    }
    members = alive;
    if (alive.length > 0) peakKb = Math.max(peakKb ?? 0, totalKb);
  };

  const guardedSample = (forceScan: boolean): void => {
    if (failure !== undefined) return;
    try {
      sample(forceScan);
    } catch (error) {
      // Memory is a nice-to-have: an unexpected /proc failure stops sampling, not the trial.
      failure = `peak memory sampling stopped: ${error instanceof Error ? error.message : String(error)}`;
      clearInterval(timer);
    }
  };

  guardedSample(true);
  timer = setInterval(() => guardedSample(false), intervalMs);

  return {
    stop(): PeakMemoryReading {
      clearInterval(timer);
      guardedSample(true);
      return failure === undefined ? { peakRssKb: peakKb } : { peakRssKb: peakKb, error: failure };
    },
  };
}

/** One process as its /proc/<pid>/stat line describes it. */
interface ProcStat {
  pid: number;
  state: string;
  processGroup: number;
}

/** Reads /proc/<pid>/stat; null when the process is gone or not ours to read. */
function readProcStat(pid: number): ProcStat | null {
  const text = readProcFile(`/proc/${pid}/stat`);
  if (text === null) return null;
  // "pid (comm) state ppid pgrp ..." where comm may itself contain spaces and parentheses.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ', 4);
  const state = fields[0];
  const processGroup = Number(fields[2]);
  if (state === undefined || !Number.isInteger(processGroup)) return null;
  return { pid, state, processGroup };
}

/** Reads VmRSS and VmHWM (KiB) from /proc/<pid>/status; null when gone, a zombie or a kernel thread. */
function readProcMemory(pid: number): { rssKb: number; highWaterKb: number } | null {
  const text = readProcFile(`/proc/${pid}/status`);
  if (text === null) return null;
  const rss = /^VmRSS:\s+(\d+) kB$/m.exec(text);
  if (!rss?.[1]) return null;
  const rssKb = Number(rss[1]);
  const highWater = /^VmHWM:\s+(\d+) kB$/m.exec(text);
  return { rssKb, highWaterKb: highWater?.[1] ? Number(highWater[1]) : rssKb };
}

function readProcFile(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // ENOENT/ESRCH: the process exited between listing and reading. EACCES/EPERM: another
    // user's process under a hidepid mount, which cannot be in our group anyway.
    if (code === 'ENOENT' || code === 'ESRCH' || code === 'EACCES' || code === 'EPERM') return null;
    throw error;
  }
}
