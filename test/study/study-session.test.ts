import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { optimize } from '../../src/evolve/optimize.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { StudySession } from '../../src/study/study-session.ts';
import { toyEvaluator, toyExamples, toyReflection } from '../evolve/toy-task.ts';
import { LoopbackModelServer } from '../helpers/loopback-model.ts';

let server: LoopbackModelServer;
beforeAll(async () => {
  server = await LoopbackModelServer.start(toyReflection());
});
afterAll(async () => server.close());

/** Try to claim study 1 from another process, optionally as another host (a UTS namespace with its own hostname). */
function claimFromElsewhere(ledgerPath: string, otherHost: boolean): { status: number | null; stderr: string } {
  const script = join(mkdtempSync(join(tmpdir(), 'strata-claim-')), 'claim.ts');
  writeFileSync(
    script,
    `import { Ledger } from ${JSON.stringify(join(import.meta.dirname, '..', '..', 'src', 'ledger', 'ledger.ts'))};
const ledger = Ledger.open(${JSON.stringify(ledgerPath)});
try { ledger.claim(1); console.log('claimed'); } catch (error) { console.error(error.message); process.exitCode = 3; } finally { ledger.close(); }
`,
  );
  const command = otherHost ? ['unshare', '--uts', 'sh', '-c', `hostname strata-other-host && exec ${process.execPath} ${script}`] : [process.execPath, script];
  const result = spawnSync(command[0]!, command.slice(1), { encoding: 'utf8' });
  return { status: result.status, stderr: result.stderr };
}

const unshareWorks = spawnSync('unshare', ['--uts', 'true']).status === 0;

describe('the study session', () => {
  it('keeps an evolve study claimed while it runs: its heartbeat advances, and neither another process nor another host can take it', async () => {
    const ledgerPath = join(mkdtempSync(join(tmpdir(), 'strata-session-')), 'ledger.db');
    const evaluator = toyEvaluator({ delayMs: 120 });
    const run = optimize({
      seed: { instructions: 'Answer with one word.' },
      trainset: toyExamples('t', 8),
      valset: toyExamples('v', 8),
      evaluate: evaluator.evaluate,
      reflectionModel: { name: 'openai-compatible:loop', provider: 'openai-compatible', modelId: 'loop', baseUrl: server.url, prices: { inputPerMtok: 1, outputPerMtok: 2 } },
      budget: { metricCalls: 70 },
      concurrency: 1,
      ledger: ledgerPath,
      studyName: 'beat',
    });
    const reader = Ledger.open(ledgerPath);
    try {
      const beats = new Set<string>();
      const until = Date.now() + 6500;
      while (Date.now() < until) {
        const beat = reader.studyByName('beat')?.heartbeatAt;
        if (beat) beats.add(beat);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(reader.studyByName('beat')!.state).toBe('running');
      // The claim's time, then at least one heartbeat 5 s later: a second orchestrator elsewhere sees a live owner.
      expect(beats.size).toBeGreaterThanOrEqual(2);
      const here = claimFromElsewhere(ledgerPath, false);
      expect(here.status, here.stderr).toBe(3);
      expect(here.stderr).toMatch(/study "beat" is being run by process \d+/);
      if (unshareWorks || process.env.CI) {
        const elsewhere = claimFromElsewhere(ledgerPath, true);
        expect(elsewhere.status, elsewhere.stderr).toBe(3);
        expect(elsewhere.stderr).toMatch(/is being run by process \d+ on /);
      }
    } finally {
      reader.close();
    }
    const result = await run;
    expect(result.budget.metricCalls).toBeGreaterThan(0);
    const after = Ledger.open(ledgerPath);
    try {
      expect(after.studyByName('beat')!.ownerPid).toBeNull();
    } finally {
      after.close();
    }
  }, 120_000);

  it('ends a study once, with its cause, and releases the claim whatever happened', () => {
    const ledger = Ledger.open(':memory:');
    try {
      const studyId = ledger.transaction(() => {
        const id = ledger.nextId('studies');
        ledger.record('study.created', { studyId: id, name: 's', kind: 'research', config: {}, configHash: 'h', branch: null, baseCommit: null }, { studyId: id });
        return id;
      });
      ledger.record('study.state_changed', { studyId, state: 'paused', reason: 'earlier', cause: 'user' }, { studyId });
      const session = StudySession.start(ledger, studyId);
      expect(ledger.study(studyId).state).toBe('running');
      expect(ledger.study(studyId).ownerPid).toBe(process.pid);
      session.end('done', 'max_trials reached (3)', 'complete');
      session.endOnError(new Error('later'));
      session.close();
      session.close();
      const study = ledger.study(studyId);
      expect([study.state, study.stopReason, study.stopCause, study.ownerPid]).toEqual(['done', 'max_trials reached (3)', 'complete', null]);
    } finally {
      ledger.close();
    }
  });
});
