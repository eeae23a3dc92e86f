/**
 * A study name becomes the branch strata/<name>, refs/strata/<name>/trials/…
 * and folders under .strata/: a name git would refuse is rejected at config
 * time with a dot-path error saying what is allowed, and a name whose branch
 * would collide with another study's (a when a/b exists) is refused when the
 * study is created, before anything is written to the ledger.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config/parse-config.ts';
import { ConfigError } from '../../src/core/errors.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { gitIn, makeRepo, quadraticConfig, quadraticTrainer } from '../helpers/study-repo.ts';
import { strataProcess } from '../helpers/strata-process.ts';

const evolveSection = `evolve:
  seed: {p: seed.txt}
  data: {train: d.jsonl, val: d.jsonl}
  reflection_model: openai:gpt-4.1-mini
  metric: {kind: command, command: "true"}
  budget: {metric_calls: 5}
`;
const withName = (name: string) => `name: ${JSON.stringify(name)}\n${evolveSection}`;

function nameProblem(name: string): string | undefined {
  try {
    parseConfig(withName(name));
    return undefined;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const issue = error.issues.find((each) => each.path === 'name');
    expect(issue, error.message).toBeDefined();
    return issue!.message;
  }
}

const gitAccepts = (name: string) => spawnSync('git', ['check-ref-format', `refs/heads/strata/${name}`]).status === 0;

describe('study names at config time', () => {
  it('refuses what git refuses, each with the reason and what is allowed', () => {
    const refused: Record<string, RegExp> = {
      'a..b': /contains "\.\."/,
      'x.lock': /ends in "\.lock"/,
      'a/x.lock/b': /ends in "\.lock"/,
      'a.': /ends in "\."/,
      ['a'.repeat(300)]: /300 characters; at most 100/,
      'a b': /" " is not allowed/,
      'a\tb': /"\\t" is not allowed/,
      'a\u0007b': /"\\u0007" is not allowed/,
      'a~b': /"~" is not allowed/,
      'a^b': /"\^" is not allowed/,
      'a:b': /":" is not allowed/,
      'a?b': /"\?" is not allowed/,
      'a*b': /"\*" is not allowed/,
      'a[b': /"\[" is not allowed/,
      'a\\b': /"\\\\" is not allowed/,
      'a@{1}': /"@" is not allowed/,
      '-a': /starts with "-"/,
      '/a': /starts with "\/"/,
      'a/': /ends in "\/"/,
      'a//b': /contains "\/\/"/,
      'a/.b': /part ".b" starts with "\."/,
      Study: /"S" is not allowed \(lowercase only\)/,
      '': /empty/,
    };
    for (const [name, reason] of Object.entries(refused)) {
      const message = nameProblem(name);
      expect(message, JSON.stringify(name)).toMatch(reason);
      expect(message).toContain('lowercase letters, digits');
      expect(message).not.toContain('\n');
    }
  });

  it('accepts ordinary names, and every name it accepts git accepts too', () => {
    for (const name of ['a', 'tiny-lm', 'v1.0/run_2', 'x.lockb', 'a.b.c', 'p/stage-1', 'a'.repeat(100)]) expect(nameProblem(name), name).toBeUndefined();
    const part = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,12}$/);
    fc.assert(
      fc.property(fc.array(part, { minLength: 1, maxLength: 3 }), (parts) => {
        const name = parts.join('/');
        if (nameProblem(name) === undefined) expect(gitAccepts(name), name).toBe(true);
      }),
      { numRuns: 150 },
    );
  });
});

describe('a name whose branch collides with another study (real git)', () => {
  it('"a" when "a/b" exists, and "a/b/c" when "a/b" exists: refused before the ledger is written, naming the other study and branch', async () => {
    const repo = makeRepo({
      'train.mjs': quadraticTrainer(),
      'strata.yaml': quadraticConfig({ name: 'a/b', maxTrials: 1 }),
      'outer.yaml': quadraticConfig({ name: 'a', maxTrials: 1 }),
      'inner.yaml': quadraticConfig({ name: 'a/b/c', maxTrials: 1 }),
    });
    const first = await strataProcess(repo, ['research']);
    expect(first.code, first.stderr).toBe(0);
    const branches = gitIn(repo, 'for-each-ref', '--format=%(refname)', 'refs/heads/strata/', 'refs/strata/');

    for (const config of ['outer.yaml', 'inner.yaml']) {
      const run = await strataProcess(repo, ['research', '--config', config]);
      expect(run.code, run.stderr).toBe(1);
      const lines = run.stderr.trim().split('\n');
      expect(lines, run.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(/^strata research: study "a(\/b\/c)?" cannot be created: its branch strata\/a(\/b\/c)? would collide with branch strata\/a\/b of study "a\/b"/);
      expect(lines[0]).toContain('choose another name');
    }
    const ledger = Ledger.open(join(repo, '.strata', 'ledger.db'));
    expect(ledger.studies().map((study) => study.name)).toEqual(['a/b']);
    ledger.close();
    expect(gitIn(repo, 'for-each-ref', '--format=%(refname)', 'refs/heads/strata/', 'refs/strata/')).toBe(branches);
  });
});
