/**
 * Trial processes a dead orchestrator left behind. A trial runs in its own
 * process group, so when the orchestrator alone is killed (kill -9 of its
 * pid, an OOM kill) the trial keeps running, holding its GPU, while the
 * resumed study starts its next attempt. Recovery finds such processes by
 * what every trial process carries — its study and trial id in the
 * environment, and a working folder in this study's worktrees — and kills
 * them. Linux only (/proc); elsewhere nothing is found.
 */
import { readdir, readFile, readlink } from 'node:fs/promises';
import { relative, isAbsolute } from 'node:path';

/**
 * Kill every process of `trialIds` of study `study` whose working folder is
 * under `worktreesDir`. Returns the pids killed.
 *
 * @example
 * const killed = await killOrphanedTrials('tiny-lm', '/repo/.strata/worktrees/tiny-lm', new Set([12, 13]));
 */
export async function killOrphanedTrials(study: string, worktreesDir: string, trialIds: ReadonlySet<number>): Promise<number[]> {
  if (trialIds.size === 0) return [];
  const entries = await readdir('/proc').catch(() => [] as string[]);
  const killed: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    const environ = await readFile(`/proc/${pid}/environ`, 'latin1').catch(() => null);
    if (environ === null) continue;
    const vars = environ.split('\0');
    if (!vars.includes(`STRATA_STUDY=${study}`)) continue;
    const id = Number(vars.find((item) => item.startsWith('STRATA_TRIAL_ID='))?.slice('STRATA_TRIAL_ID='.length));
    if (!trialIds.has(id)) continue;
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => null);
    if (cwd === null || !within(worktreesDir, cwd)) continue;
    try {
      process.kill(pid, 'SIGKILL');
      killed.push(pid);
    } catch {
      // Gone between the scan and the kill.
    }
  }
  return killed;
}

function within(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}
