import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { IntegrityGuard } from '../../src/integrity/integrity-guard.ts';
import { GitControlFiles } from '../../src/integrity/git-control-files.ts';
import { gitLocations } from '../../src/integrity/git-locations.ts';
import { makeRepo } from '../helpers/study-repo.ts';

const repos: string[] = [];
afterEach(() => {
  for (const repo of repos.splice(0)) rmSync(repo, { recursive: true, force: true });
});
function repoWithWorktree(): { repo: string; worktree: string } {
  const repo = makeRepo({ 'train.mjs': 'x', 'prepare.mjs': 'p' });
  repos.push(repo);
  const worktree = join(repo, '.strata', 'worktrees', 's', 'slot-0');
  execFileSync('git', ['worktree', 'add', '-q', '--detach', worktree, 'HEAD'], { cwd: repo });
  return { repo, worktree };
}

describe("the repository's git control files", () => {
  it('finds a linked worktree\'s git folders from its files, without running git', () => {
    const { repo, worktree } = repoWithWorktree();
    expect(gitLocations(worktree)).toEqual({ gitDir: join(repo, '.git', 'worktrees', 'slot-0'), commonDir: join(repo, '.git'), pointer: join(worktree, '.git') });
    expect(gitLocations(repo)).toEqual({ gitDir: join(repo, '.git'), commonDir: join(repo, '.git') });
  });

  it('reports a config that names a program, a new hook, attributes and a redirected pointer, and puts every one back', () => {
    const { repo, worktree } = repoWithWorktree();
    const config = readFileSync(join(repo, '.git', 'config'), 'utf8');
    const pointer = readFileSync(join(worktree, '.git'), 'utf8');
    const before = GitControlFiles.read(worktree)!;
    writeFileSync(join(repo, '.git', 'config'), `${config}[core]\n\tfsmonitor = /tmp/evil\n`);
    writeFileSync(join(repo, '.git', 'hooks', 'post-checkout'), '#!/bin/sh\ntouch /tmp/ran\n');
    chmodSync(join(repo, '.git', 'hooks', 'post-checkout'), 0o755);
    writeFileSync(join(repo, '.git', 'info', 'attributes'), '* filter=evil\n');
    rmSync(join(worktree, '.git'));
    symlinkSync('/tmp/elsewhere', join(worktree, '.git'));
    expect(before.changes()).toEqual([
      { path: '.git/config', change: 'content', detail: 'content changed' },
      { path: '.git/hooks/post-checkout', change: 'added', detail: 'a new hook' },
      { path: '.git/info/attributes', change: 'added', detail: 'created' },
      { path: '.strata/worktrees/s/slot-0/.git', change: 'content', detail: 'content changed' },
    ]);
    before.restore();
    expect(before.changes()).toEqual([]);
    expect(readFileSync(join(repo, '.git', 'config'), 'utf8')).toBe(config);
    expect(readFileSync(join(worktree, '.git'), 'utf8')).toBe(pointer);
    expect(existsSync(join(repo, '.git', 'hooks', 'post-checkout'))).toBe(false);
    expect(existsSync(join(repo, '.git', 'info', 'attributes'))).toBe(false);
  });

  it('makes a run that changed them invalid through the integrity guard, and puts them back first', async () => {
    const { repo, worktree } = repoWithWorktree();
    const guard = await IntegrityGuard.fromCheckout(worktree, ['prepare.mjs']);
    const before = await guard.checkBeforeRun(worktree);
    expect(before.violations).toEqual([]);
    execFileSync('git', ['config', 'core.fsmonitor', '/tmp/evil'], { cwd: worktree });
    const after = await guard.checkAfterRun(worktree, before.snapshot);
    expect(after).toEqual([{ path: '.git/config', change: 'content', detail: 'content changed, put back' }]);
    expect(readFileSync(join(repo, '.git', 'config'), 'utf8')).not.toContain('fsmonitor');
  });
});
