/**
 * Issue 12, reproduction 1: after a kill, `strata status` showed `running #9`
 * with no process alive, and nothing said the study was not running. The
 * ledger's `running` is what the last orchestrator wrote; status now checks
 * the owner (its pid on this host, its heartbeat elsewhere) and says when
 * nothing runs the study, with the command that resumes it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { orchestratorGone } from '../../src/cli/commands/status.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import type { StudyRecord, TrialRecord } from '../../src/ledger/records.ts';
import { makeRepo, quadraticConfig, quadraticTrainer } from '../helpers/study-repo.ts';
import { strataProcess, until } from '../helpers/strata-process.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'strata.js');
const env = (extra: NodeJS.ProcessEnv = {}) => ({ ...process.env, NO_COLOR: '1', STRATA_CHAOS_KILL: '', ...extra });
const strata = (cwd: string, args: string[], extra: NodeJS.ProcessEnv = {}) => spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: env(extra), timeout: 60_000 });

function studyIn(repo: string): (StudyRecord & { trials: TrialRecord[] }) | undefined {
  const ledger = Ledger.open(join(repo, '.strata', 'ledger.db'));
  try {
    const study = ledger.studyByName('quad');
    return study && { ...study, trials: ledger.trials(study.id) };
  } finally {
    ledger.close();
  }
}

describe('strata status of a study the ledger calls running', () => {
  it('after a kill -9: says no orchestrator runs it, which process is gone, and what resumes it; pause and resume say so at once', () => {
    const repo = makeRepo({ 'train.mjs': quadraticTrainer(), 'strata.yaml': quadraticConfig({ maxTrials: 3 }) });
    const killed = strata(repo, ['research'], { STRATA_CHAOS_KILL: 'proposing:2' });
    expect(killed.signal).toBe('SIGKILL');
    const study = studyIn(repo)!;
    expect(study.state).toBe('running');
    for (const args of [['status'], ['status', '--all']]) {
      const status = strata(repo, args);
      expect(status.status, status.stderr).toBe(0);
      expect(status.stdout).toMatch(/^quad {2}research · running/);
      expect(status.stdout).toContain(`not running: its orchestrator (process ${study.ownerPid} on ${hostname()}) is gone, last heartbeat `);
      expect(status.stdout.trim().split('\n').at(-1)).toMatch(/; `strata research` \(or `strata resume`\) resumes it$/);
    }
    // Within the heartbeat's 30 s, pause and resume asked the dead process and waited 15 s for its answer ("has not
    // answered yet", "it pauses once its running trials finish", exit 0). They answer at once now.
    const pause = strata(repo, ['pause']);
    expect(pause.status).toBe(1);
    expect(pause.stdout).toBe('');
    expect(pause.stderr.trim()).toMatch(new RegExp(`^strata pause: study "quad" is not running: its orchestrator \\(process ${study.ownerPid} on .*\\) is gone, last heartbeat .* ago; \`strata research\` \\(or \`strata resume\`\\) resumes it$`));
    const resume = strata(repo, ['resume', '--print']);
    expect(resume.status, resume.stderr).toBe(0);
    expect(resume.stdout).toMatch(/^study quad is running; resume it in the foreground with: strata research --config .*strata\.yaml\n$/);
  }, 60_000);

  it('while its orchestrator runs: no such line', async () => {
    const repo = makeRepo({ 'train.mjs': quadraticTrainer(), 'strata.yaml': quadraticConfig({ maxTrials: 3, extra: '  env: {SLEEP_MS: "30000"}\n' }) });
    const child = spawn(process.execPath, [BIN, 'research'], { cwd: repo, env: env(), stdio: 'ignore' });
    try {
      for (let i = 0; i < 400 && studyIn(repo)?.ownerPid !== child.pid; i++) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(studyIn(repo)?.ownerPid).toBe(child.pid);
      const status = strata(repo, ['status']);
      expect(status.status, status.stderr).toBe(0);
      expect(status.stdout).toMatch(/^quad {2}research · running/);
      expect(status.stdout).not.toContain('not running');
    } finally {
      const closed = new Promise((resolve) => child.on('close', resolve));
      child.kill('SIGTERM');
      await closed;
    }
  }, 60_000);

  it('Ctrl-C pressed twice exits at once (130), leaving the study running in the ledger: status says so, and the next run retries the cut trial and finishes', async () => {
    // The first trial (#0) ignores SIGTERM and runs long, so the graceful stop the first press starts is still waiting when
    // the second comes; its retry (a new seq) is quick.
    const trainer = `if (process.env.STRATA_TRIAL === '0') { process.on('SIGTERM', () => {}); await new Promise((resolve) => setTimeout(resolve, 30_000)); }\n${quadraticTrainer()}`;
    const repo = makeRepo({ 'train.mjs': trainer, 'strata.yaml': quadraticConfig({ maxTrials: 2, budget: '60s' }) });
    const run = await strataProcess(repo, ['research'], {
      env: { STRATA_CHAOS_KILL: '' },
      during: async (child) => {
        let stderr = '';
        child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        await until(() => {
          try {
            return studyIn(repo)?.trials.some((trial) => trial.status === 'running') === true;
          } catch {
            return false; // the ledger is being created
          }
        }, 'the baseline to run');
        child.kill('SIGINT');
        await until(() => stderr.includes('press Ctrl-C again to exit at once'), 'the first press to be taken');
        child.kill('SIGINT');
      },
    });
    expect(run.code, run.stderr).toBe(130);
    expect(studyIn(repo)?.state).toBe('running');
    const status = strata(repo, ['status']);
    expect(status.stdout).toContain('not running: its orchestrator');
    const resumed = strata(repo, ['research']);
    expect(resumed.status, `${resumed.stdout}\n${resumed.stderr}`).toBe(0);
    expect(studyIn(repo)?.trials.map((trial) => [trial.seq, trial.status, trial.retryOf !== null])).toEqual([[0, 'interrupted', false], [1, 'keep', true], [2, expect.any(String), false]]);
    expect(studyIn(repo)?.state).toBe('done');
  }, 60_000);

  it('owned on another host: alive while its heartbeat is fresh, gone once it is 30 s old; a stage resumes with its pipeline', () => {
    const now = Date.parse('2026-01-01T12:00:00Z');
    const study = { id: 1, name: 'quad', kind: 'research', state: 'running', ownerPid: 4242, ownerHost: 'elsewhere.invalid', heartbeatAt: new Date(now - 5_000).toISOString() } as StudyRecord;
    expect(orchestratorGone(study, now)).toBeUndefined();
    expect(orchestratorGone({ ...study, heartbeatAt: new Date(now - 45_000).toISOString() }, now)).toBe(
      'not running: its orchestrator (process 4242 on elsewhere.invalid) is gone, last heartbeat 45.0s ago; `strata research` (or `strata resume`) resumes it',
    );
    expect(orchestratorGone({ ...study, name: 'pipe/train', kind: 'evolve', ownerPid: null, heartbeatAt: null }, now)).toBe('not running: no orchestrator holds it; run its pipeline again (strata pipeline)');
    expect(orchestratorGone({ ...study, state: 'paused', heartbeatAt: null }, now)).toBeUndefined();
  });
});
