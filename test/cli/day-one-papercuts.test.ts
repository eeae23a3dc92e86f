import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gitIn, makeRepo, quadraticConfig, quadraticTrainer } from '../helpers/study-repo.ts';

/** What a new user hit on the first day, each through the real command in a real repository. */

const BIN = resolve(import.meta.dirname, '../../bin/strata.js');
const strata = (cwd: string, ...args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 });

describe('first-day papercuts', () => {
  it('accepts strata.params.json in editable though no commit has it yet (the search proposer writes it)', () => {
    const text = quadraticConfig({ maxTrials: 3 }).replace('editable: [train.mjs]', 'editable: [train.mjs, strata.params.json]');
    const repo = makeRepo({ 'train.mjs': quadraticTrainer(), 'strata.yaml': text });
    const run = strata(repo, 'research');
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).not.toContain('matches no committed file');
    expect(run.stdout).toContain('3 runs: ');
    expect(run.stdout).toContain('0 invalid');
    expect(gitIn(repo, 'show', 'strata/quad:strata.params.json')).toContain('"x"');
  });
});
