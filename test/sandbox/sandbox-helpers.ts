import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess } from '../../src/executors/run-process.ts';
import type { ExecutionRequest, ExecutionResult, Executor } from '../../src/core/executor.ts';

/** A stand-in repository layout: root, a trial worktree, artifacts and scratch folders inside its .strata. */
export function sandboxLayout(): { root: string; workdir: string; artifacts: string; scratch: string; ledger: string; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'strata-sandbox-'));
  const workdir = join(root, '.strata', 'worktrees', 'study', 'slot-0');
  const artifacts = join(root, '.strata', 'artifacts', 'study', '1-1');
  const scratch = join(root, '.strata', 'sandbox', 'study');
  for (const dir of [workdir, artifacts, scratch]) mkdirSync(dir, { recursive: true });
  return { root, workdir, artifacts, scratch, ledger: join(root, '.strata', 'ledger.db'), cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** The local executor without the research layer: runProcess with a log in the scratch folder. */
export const processExecutor: Executor = {
  kind: 'local',
  run: (request: ExecutionRequest): Promise<ExecutionResult> =>
    runProcess({ command: request.command, cwd: request.cwd, env: request.env, budgetMs: request.budgetMs, graceMs: request.graceMs, logPath: request.logPath }),
};

export function request(command: string, cwd: string, env: Record<string, string> = {}): ExecutionRequest {
  return { trialId: 1, command, cwd, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, budgetMs: 20_000, graceMs: 2000, logPath: join(cwd, '..', `log-${Math.random()}.txt`) };
}

/** Pids of live processes whose command line contains `marker` (zombies excluded). */
export function processesWith(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      const state = /^\d+ \(.*\) (\S)/.exec(readFileSync(`/proc/${entry}/stat`, 'utf8'))?.[1];
      if (cmdline.includes(marker) && state !== 'Z' && Number(entry) !== process.pid) found.push(Number(entry));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' && (error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  }
  return found;
}

/** The study the hostile coding agent (test/fixtures/fake-agent/hostile-agent) is run in: it may edit
 * train.mjs, data/ is protected, and the trainer scores the edit; `extra` adds lines under research:. */
export function hostileAgentYaml(name: string, agentCommand: string, extra = ''): string {
  return `name: ${name}
research:
  editable: [train.mjs]
  protected: [data/**]
  run: ${JSON.stringify(`${process.execPath} train.mjs`)}
  budget: 20s
  metric: {name: loss, goal: minimize}
  proposer: command
  agent_command: ${JSON.stringify(agentCommand)}
  agent_timeout: 30s
  acceptance: {rule: strict}
  max_trials: 2
${extra}`;
}
