/**
 * Strata's own git calls run no program a repository's config names
 * (README, "A sandbox for trial processes"): a config a proposer or trial
 * could have written, or one the user keeps, names an external diff, a
 * textconv driver, a pager, a monitor and hooks; every diffing command
 * Strata runs, through git() and the long-lived diff-tree process, leaves
 * them unrun and shows the plain diff.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { git, gitText } from '../../src/workspace/git.ts';
import { TreeDiff } from '../../src/workspace/tree-diff.ts';
import { gitIn, makeRepo } from '../helpers/study-repo.ts';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** A repository with two commits of a.txt whose config names `planted` wherever git would start a program. */
function plantedRepository(): { dir: string; ran: () => string } {
  const dir = makeRepo({ 'a.txt': 'one\n' });
  const marks = mkdtempSync(join(tmpdir(), 'strata-planted-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }), () => rmSync(marks, { recursive: true, force: true }));
  const mark = join(marks, 'RAN');
  const planted = join(marks, 'planted.sh');
  // Prints a line of its own, so output that went through it shows too.
  writeFileSync(planted, `#!/bin/sh\necho "$0 $*" >> ${JSON.stringify(mark)}\necho PLANTED\n`);
  chmodSync(planted, 0o755);
  writeFileSync(join(dir, 'a.txt'), 'two\n');
  gitIn(dir, 'commit', '-qam', 'second');
  const hooks = join(marks, 'hooks');
  mkdirSync(hooks);
  for (const hook of ['post-checkout', 'post-index-change', 'reference-transaction']) {
    writeFileSync(join(hooks, hook), `#!/bin/sh\nexec ${planted}\n`);
    chmodSync(join(hooks, hook), 0o755);
  }
  for (const [key, value] of [
    ['diff.external', planted],
    ['diff.planted.textconv', planted],
    ['diff.planted.command', planted],
    ['core.pager', planted],
    ['pager.log', planted],
    ['core.fsmonitor', planted],
    ['core.hooksPath', hooks],
  ]) gitIn(dir, 'config', key!, value!);
  writeFileSync(join(dir, '.git', 'info', 'attributes'), '* diff=planted\n');
  return { dir, ran: () => (existsSync(mark) ? readFileSync(mark, 'utf8') : '') };
}

describe("Strata's git calls and a repository config that names programs", () => {
  it('diff, log, show and format-patch run no external diff, textconv driver, pager, monitor or hook, and show the plain diff', async () => {
    const { dir, ran } = plantedRepository();
    // The planted config takes effect for git without Strata's settings (the check that the test plants what git would run).
    gitIn(dir, 'diff', 'HEAD~1', 'HEAD');
    expect(ran()).not.toBe('');
    const before = ran();

    const outputs = [
      await gitText(['diff', 'HEAD~1', 'HEAD'], dir),
      await gitText(['log', '-p', '-1'], dir),
      await gitText(['show', 'HEAD'], dir),
      await gitText(['format-patch', '--stdout', '-1', 'HEAD'], dir),
      (await git(['status', '--porcelain'], dir)).stdout,
      (await git(['checkout', '--quiet', '--detach', 'HEAD~1'], dir)).stdout,
    ];
    const trees = await gitText(['log', '--format=%T', '-2', 'main'], dir);
    const [to, from] = trees.split('\n') as [string, string];
    const treeDiff = new TreeDiff(dir);
    try {
      outputs.push(await treeDiff.diff(from, to));
    } finally {
      treeDiff.close();
    }
    expect(ran()).toBe(before);
    for (const output of outputs.slice(0, 4)) {
      expect(output).toContain('-one\n+two');
      expect(output).not.toContain('PLANTED');
    }
    expect(outputs.at(-1)).toContain('-one\n+two');
    expect(outputs.at(-1)).not.toContain('PLANTED');
  });
});
