/**
 * The chaos harness: run a real `strata` command in its own process group,
 * SIGKILL it — alone or with its whole group — at a named phase
 * (STRATA_CHAOS_KILL, see src/study/chaos-point.ts) or after a random
 * delay, resume, and check what must survive any kill.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Ledger } from '../../src/ledger/ledger.ts';
import type { TrialRecord } from '../../src/ledger/records.ts';
import { gitIn } from '../helpers/study-repo.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'strata.js');

export interface StrataRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface KillPlan {
  /** Kill at the n-th time the orchestrator reaches this phase. */
  phase?: string;
  n?: number;
  /** Kill after this many ms instead (measured from the start). */
  afterMs?: number;
  /** Kill the whole process group (trial processes too), not the orchestrator alone. */
  group?: boolean;
}

/** Run `strata <args>` in `cwd` in its own process group, optionally killing it as `kill` says. */
export function strata(cwd: string, args: readonly string[], options: { kill?: KillPlan; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<StrataRun> {
  const { kill } = options;
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env, NO_COLOR: '1' };
  delete env.STRATA_CHAOS_KILL;
  if (kill?.phase) env.STRATA_CHAOS_KILL = `${kill.phase}:${kill.n ?? 1}${kill.group ? ':group' : ''}`;
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timers: NodeJS.Timeout[] = [];
  const killNow = (group: boolean) => {
    try {
      process.kill(group ? -child.pid! : child.pid!, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };
  if (kill?.afterMs !== undefined) timers.push(setTimeout(() => killNow(kill.group ?? false), kill.afterMs));
  timers.push(setTimeout(() => killNow(true), options.timeoutMs ?? 120_000));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      for (const timer of timers) clearTimeout(timer);
      // CHAOS_REPORT=<file>: one JSON line per killed run, for docs/overnight.md's table.
      if (kill && process.env.CHAOS_REPORT) {
        const what = kill.phase ? `${kill.phase}#${kill.n ?? 1}` : 'random';
        appendFileSync(process.env.CHAOS_REPORT, `${JSON.stringify({ command: args[0], kill: what, group: kill.group ?? false, landed: signal === 'SIGKILL', cwd })}\n`);
      }
      // A kill of the orchestrator alone leaves its trial processes running: the next `strata research` must find and end them.
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** A small deterministic generator, so a failing sequence can be replayed from its printed seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 2 ** 32;
  };
}

/** The trials and study of `name` in the repository's ledger. */
export function readStudy(repo: string, name: string): { state: string; stopReason: string | null; trials: TrialRecord[]; bestCommit: string | null; bestTrialId: number | null } {
  // A kill before the study was created leaves no ledger (or no study in it): nothing to check yet.
  const missing = { state: 'missing', stopReason: null, trials: [], bestCommit: null, bestTrialId: null };
  if (!existsSync(join(repo, '.strata', 'ledger.db'))) return missing;
  const ledger = Ledger.open(join(repo, '.strata', 'ledger.db'));
  try {
    const study = ledger.studyByName(name);
    if (!study) return missing;
    const trials = ledger.trials(study.id);
    const best = study.bestTrialId === null ? undefined : trials.find((trial) => trial.id === study.bestTrialId);
    return { state: study.state, stopReason: study.stopReason, trials, bestCommit: best?.keptCommit ?? null, bestTrialId: study.bestTrialId };
  } finally {
    ledger.close();
  }
}

/** Final results that must never change once written (a kill must not lose or rewrite them). */
export function finishedResults(trials: readonly TrialRecord[]): Map<number, string> {
  return new Map(
    trials
      .filter((trial) => trial.status !== 'queued' && trial.status !== 'running' && trial.status !== 'interrupted')
      .map((trial) => [trial.id, `${trial.seq}:${trial.status}:${trial.metric}:${trial.candidateCommit}`]),
  );
}

/**
 * What must hold after any sequence of kills and resumes once the study is
 * done. Returns the problems found (empty when all hold).
 */
export function checkInvariants(repo: string, name: string, expect: { maxTrials: number; earlier: readonly Map<number, string>[] }): string[] {
  const problems: string[] = [];
  const { state, stopReason, trials, bestCommit } = readStudy(repo, name);
  if (state !== 'done') problems.push(`study is ${state} (${stopReason}), not done`);
  const live = trials.filter((trial) => trial.status === 'queued' || trial.status === 'running');
  if (live.length > 0) problems.push(`trials left live: ${live.map((trial) => `#${trial.seq} ${trial.status}`).join(', ')}`);
  if (new Set(trials.map((trial) => trial.seq)).size !== trials.length) problems.push('trial seqs are not unique');

  // No finished result lost or rewritten by a later session.
  const now = finishedResults(trials);
  for (const snapshot of expect.earlier) {
    for (const [id, result] of snapshot) if (now.get(id) !== result) problems.push(`trial ${id} was ${result}, now ${now.get(id) ?? 'gone'}`);
  }
  // No candidate run twice: each chain of attempts (retryOf) has at most one result.
  const byId = new Map(trials.map((trial) => [trial.id, trial]));
  const root = (trial: TrialRecord): number => (trial.retryOf === null ? trial.id : root(byId.get(trial.retryOf)!));
  const results = new Map<number, number>();
  for (const trial of trials) if (trial.status !== 'interrupted') results.set(root(trial), (results.get(root(trial)) ?? 0) + 1);
  for (const [id, count] of results) if (count > 1) problems.push(`trial ${byId.get(id)!.seq} has ${count} results across its attempts`);
  // No candidate lost: one that was interrupted after it had a candidate has a new attempt (unless it never started at the end of the study).
  const retried = new Set(trials.map((trial) => trial.retryOf).filter((id) => id !== null));
  for (const trial of trials) {
    if (trial.status !== 'interrupted' || retried.has(trial.id) || trial.candidateCommit === null) continue;
    if (trial.role === 'baseline-repeat' || trial.role === 'rerun' || trial.role === 'incumbent-check') continue;
    if (trial.cause === 'not-started') continue;
    problems.push(`#${trial.seq} (${trial.role}) was interrupted (${trial.cause}) and never tried again`);
  }
  const counted = trials.filter((trial) => ['candidate', 'screen', 'baseline'].includes(trial.role) && !['interrupted', 'queued', 'running'].includes(trial.status) && trial.cause !== 'proposal-failed' && trial.cause !== 'duplicate').length;
  if (counted !== expect.maxTrials) problems.push(`${counted} trials counted against max_trials ${expect.maxTrials}`);

  // The branch holds the best; no worktree is left behind.
  const tip = gitIn(repo, 'rev-parse', `refs/heads/strata/${name}`);
  if (bestCommit === null) problems.push('no best trial');
  else if (tip !== bestCommit) problems.push(`branch tip ${tip.slice(0, 8)} is not the best commit ${bestCommit.slice(0, 8)}`);
  const worktrees = gitIn(repo, 'worktree', 'list').split('\n');
  if (worktrees.length !== 1) problems.push(`stale worktrees: ${worktrees.slice(1).join('; ')}`);
  const dir = join(repo, '.strata', 'worktrees', name);
  if (existsSync(dir) && readdirSync(dir).length > 0) problems.push(`stale worktree folders in ${dir}: ${readdirSync(dir).join(', ')}`);
  // A failure names what the ledger holds, so a CI log alone explains it (the repository is gone by then).
  if (problems.length > 0) {
    problems.push(`stop reason: ${stopReason}`);
    for (const trial of trials) {
      problems.push(`  #${trial.seq} ${trial.role} ${trial.status}${trial.cause ? ` (${trial.cause})` : ''}${trial.measuredAt ? ' measured' : ''}${trial.externalId ? ` job ${trial.externalId}` : ''}${trial.retryOf !== null ? ` retry of id ${trial.retryOf}` : ''} — ${trial.statusReason ?? ''}`);
    }
  }
  return problems;
}

/** `strata ledger check` on the repository's ledger: problems, or [] when it passes. */
export async function ledgerCheck(repo: string): Promise<string[]> {
  const run = await strata(repo, ['ledger', 'check']);
  return run.code === 0 ? [] : [`strata ledger check failed (${run.code}): ${run.stdout}${run.stderr}`];
}

