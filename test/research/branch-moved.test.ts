/**
 * Issue 12's reproduction: the study branch force-moved by the user, while
 * the study runs, to a commit that is not a descendant of the best. The next
 * keep must notice it before it writes anything: the study pauses (never
 * `failed`, never stuck in `running`) with the commands that keep the user's
 * commit and put the branch back, the trial keeps its measurement, and no
 * summary claims the best is on the branch. Put back, the study resumes the
 * decision and finishes.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Proposer } from '../../src/core/proposer.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { checkLedger } from '../../src/ledger/ledger-check.ts';
import { runResearch } from '../../src/research/run-research.ts';
import { config, gitIn, makeRepo, quadraticConfig, quadraticTrainer } from '../helpers/study-repo.ts';

const opened: Ledger[] = [];
afterEach(() => {
  for (const ledger of opened.splice(0)) ledger.close();
});

describe('a study branch force-moved while the study runs', () => {
  it('to a commit that is not a descendant: the next keep pauses the study naming both commits, writes nothing, and resumes once the branch is put back', async () => {
    const repo = makeRepo({ 'train.mjs': quadraticTrainer(), 'strata.yaml': quadraticConfig({ maxTrials: 3 }) });
    const base = gitIn(repo, 'rev-parse', 'HEAD');
    // A commit of the user's that does not hold the study's base: on a side branch from an orphan root.
    gitIn(repo, 'checkout', '-q', '--orphan', 'side');
    writeFileSync(join(repo, 'mine.txt'), 'mine\n');
    gitIn(repo, 'add', 'mine.txt');
    gitIn(repo, 'commit', '-q', '-m', 'my own work');
    const mine = gitIn(repo, 'rev-parse', 'HEAD');
    gitIn(repo, 'checkout', '-q', '-f', 'main');

    // The first proposal (x = 1: loss 0.5, far better than the baseline's 4.5) is made right after the user force-moved the branch.
    let proposals = 0;
    const proposer: Proposer = {
      name: 'scripted',
      async propose(context) {
        proposals++;
        if (proposals === 1) gitIn(repo, 'branch', '-f', 'strata/quad', mine);
        writeFileSync(join(context.projectDir, 'train.mjs'), quadraticTrainer().replace('{ x: 3 }', `{ x: ${proposals === 1 ? 1 : 2} }`));
        return { description: `x = ${proposals === 1 ? 1 : 2}` };
      },
    };
    const paused = await runResearch({ configPath: join(repo, 'strata.yaml'), config: config(quadraticConfig({ maxTrials: 3 })), proposer }).then(
      (summary) => ({ summary, error: undefined }),
      (error: unknown) => ({ summary: undefined, error }),
    );
    expect(paused.error, 'the keep must pause the study with a BranchMovedError').toMatchObject({ code: 'branch_moved' });
    const message = (paused.error as Error).message;
    expect(message).toContain(`branch strata/quad was moved outside Strata (it is at ${mine.slice(0, 12)}`);
    expect(message).toContain(`git branch saved-quad ${mine.slice(0, 12)}`);
    expect(message).toContain(`git branch -f strata/quad ${base}`);
    expect(message).not.toMatch(/update-ref|expected/);
    // The user's commit is untouched; the study is paused, not failed; the candidate keeps its measurement, undecided.
    expect(gitIn(repo, 'rev-parse', 'strata/quad')).toBe(mine);
    const ledger = Ledger.open(join(repo, '.strata', 'ledger.db'));
    opened.push(ledger);
    const study = ledger.studyByName('quad')!;
    expect(study.state).toBe('paused');
    expect(study.stopReason).toContain('moved outside Strata');
    const candidate = ledger.trials(study.id).find((trial) => trial.seq === 1)!;
    expect(candidate).toMatchObject({ status: 'running', metric: 0.5, keptCommit: null });
    expect(candidate.measuredAt).not.toBeNull();
    expect(study.bestTrialId).toBe(ledger.trials(study.id).find((trial) => trial.seq === 0)!.id);
    ledger.close();

    // Put back as the message says: the decision resumes (no rerun of #1) and the study finishes with #1 kept on the branch.
    gitIn(repo, 'branch', 'saved-quad', mine);
    gitIn(repo, 'branch', '-f', 'strata/quad', base);
    const resumed = await runResearch({ configPath: join(repo, 'strata.yaml'), config: config(quadraticConfig({ maxTrials: 3 })), proposer });
    expect(resumed.study.state).toBe('done');
    const first = resumed.trials.find((trial) => trial.seq === 1)!;
    expect(first).toMatchObject({ status: 'keep', metric: 0.5 });
    expect(gitIn(repo, 'rev-parse', 'strata/quad')).toBe(resumed.best!.commit);
    expect(resumed.best!.trial).toBe(1);
    expect(gitIn(repo, 'rev-parse', 'saved-quad')).toBe(mine);
    expect(proposals).toBe(2);
    const after = Ledger.open(join(repo, '.strata', 'ledger.db'));
    opened.push(after);
    expect(checkLedger(after).ok).toBe(true);
  });
});
