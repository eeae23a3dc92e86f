/**
 * README, Stopping and resuming: "Two orchestrators cannot run the same study
 * at once: the owner keeps a heartbeat in the ledger (research, evolve and
 * pipelines alike)". A second `strata pipeline` on a running pipeline is
 * refused in one line; the first keeps its claim and goes on. Real processes.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Ledger } from '../../src/ledger/ledger.ts';
import { strataProcess, until } from '../helpers/strata-process.ts';
import { makeRepo } from '../helpers/study-repo.ts';
import { researchSection, TRAINER } from './pipeline-fixtures.ts';

function snapshot(repo: string): { pipe: string | undefined; owner: number | null | undefined; running: boolean } {
  const ledger = Ledger.open(join(repo, '.strata', 'ledger.db'));
  try {
    const pipe = ledger.studyByName('pipe');
    const stage = ledger.studyByName('pipe/first');
    return {
      pipe: pipe?.state,
      owner: pipe?.ownerPid,
      running: stage !== undefined && ledger.trials(stage.id).some((trial) => trial.status === 'running' && trial.seq >= 1),
    };
  } finally {
    ledger.close();
  }
}

describe('a pipeline claimed by a live process', () => {
  it('refuses a second strata pipeline on it in one line; the claim stays with the first, which runs on to its end', async () => {
    const yaml = `name: pipe
${researchSection().replace(JSON.stringify(`${process.execPath} train.mjs`), JSON.stringify(`sleep 1 && ${process.execPath} train.mjs`)).replace('proposer: agent', 'proposer: search\n  params: {x: {type: float, low: -5, high: 5}}').replace('max_trials: 3', 'max_trials: 40')}pipeline:
  - stage: first
    research: {}
`;
    const repo = makeRepo({ 'train.mjs': TRAINER.replace('const x = 3;', 'const x = Number(process.env.STRATA_PARAM_X ?? 3);'), 'data/x.txt': 'data', 'pipeline.yaml': yaml });
    const first = await strataProcess(repo, ['pipeline', '--config', 'pipeline.yaml'], {
      during: async (child) => {
        await until(() => {
          try {
            return snapshot(repo).running;
          } catch {
            return false; // the ledger is being created
          }
        }, 'a running trial of stage first', 60_000);
        const before = snapshot(repo);
        expect(before).toMatchObject({ pipe: 'running', owner: child.pid });
        const second = await strataProcess(repo, ['pipeline', '--config', 'pipeline.yaml']);
        expect(second.code).not.toBe(0);
        expect(second.stderr).toMatch(new RegExp(`study "pipe" is being run by process ${child.pid} on \\S+; stop it first`));
        expect(second.stderr).not.toMatch(/\n\s+at /);
        expect(second.stderr.trim().split('\n')).toHaveLength(1);
        const after = snapshot(repo);
        expect(after.owner).toBe(child.pid);
        expect(after.pipe).toBe('running');
        const stop = await strataProcess(repo, ['stop', '--config', 'pipeline.yaml', '--why', 'enough']);
        expect(stop.code, stop.stderr).toBe(0);
      },
    });
    expect(first.code, first.stderr).toBe(0);
    expect(snapshot(repo)).toMatchObject({ pipe: 'done', owner: null });
  }, 120_000);
});
