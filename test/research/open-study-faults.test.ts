/**
 * A failure while a study is being opened, after this process marked it
 * running (issue 12: "fails at `git update-ref` and stays `running`"): the
 * study must end paused with the error as its reason and no owner, never be
 * left `running` for `strata status` with no process alive; fixed, the next
 * run resumes it.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Ledger } from '../../src/ledger/ledger.ts';
import { runResearch } from '../../src/research/run-research.ts';
import { config, gitIn, makeRepo, quadraticConfig, quadraticTrainer } from '../helpers/study-repo.ts';

const opened: Ledger[] = [];
afterEach(() => {
  for (const ledger of opened.splice(0)) ledger.close();
});

function readStudy(repo: string) {
  const ledger = Ledger.open(join(repo, '.strata', 'ledger.db'));
  opened.push(ledger);
  return ledger.studyByName('quad')!;
}

describe('a study that fails while it is opened', () => {
  it('its branch cannot be made again on resume (strata/quad/mine is in the way): paused with the git error, no owner, never left running', async () => {
    const repo = makeRepo({ 'train.mjs': quadraticTrainer(), 'strata.yaml': quadraticConfig({ maxTrials: 1 }) });
    const configPath = join(repo, 'strata.yaml');
    const first = await runResearch({ configPath, config: config(quadraticConfig({ maxTrials: 1 })) });
    expect(first.study.state).toBe('done');

    // The user deletes the study branch and makes one that git cannot keep beside it.
    gitIn(repo, 'branch', '-D', 'strata/quad');
    gitIn(repo, 'branch', 'strata/quad/mine', 'main');
    const more = config(quadraticConfig({ maxTrials: 2 }));
    await expect(runResearch({ configPath, config: more })).rejects.toThrow(/strata\/quad/);
    const stuck = readStudy(repo);
    expect(stuck.state).toBe('paused');
    expect(stuck.stopCause).toBe('error');
    expect(stuck.stopReason).toMatch(/^error: .*strata\/quad/);
    expect(stuck.ownerPid).toBeNull();

    gitIn(repo, 'branch', '-D', 'strata/quad/mine');
    const resumed = await runResearch({ configPath, config: more });
    expect(resumed.study.state).toBe('done');
    expect(resumed.trials.filter((trial) => trial.role === 'candidate' || trial.role === 'baseline')).toHaveLength(2);
  }, 60_000);
});
