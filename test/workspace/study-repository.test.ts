import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GitError } from '../../src/core/errors.ts';
import { commitObject } from '../../src/workspace/commit-writer.ts';
import { StudyRepository } from '../../src/workspace/study-repository.ts';
import { gitIn, makeRepo } from '../helpers/study-repo.ts';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

async function repository(files: Record<string, string>): Promise<{ dir: string; repo: StudyRepository; head: string }> {
  const dir = makeRepo(files);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const repo = await StudyRepository.open(dir);
  return { dir, repo, head: gitIn(dir, 'rev-parse', 'HEAD') };
}

/** Every path in a checkout but its `.git`, folders with a trailing slash. */
function listing(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true })
    .filter((entry) => !(prefix === '' && entry.name === '.git'))
    .flatMap((entry) => (entry.isDirectory() ? [`${prefix}${entry.name}/`, ...listing(dir, `${prefix}${entry.name}/`)] : [`${prefix}${entry.name}`]))
    .sort();
}

describe('StudyRepository through long-lived git processes', () => {
  it('commits a worktree as git commit-tree would: Strata as author and committer, the parent, the staged tree, the message as given', async () => {
    const { dir, repo, head } = await repository({ 'train.py': 'lr = 1\n', 'data/x.txt': 'x\n' });
    const worktree = join(dir, '.strata', 'worktrees', 's', 'slot-0');
    await repo.prepareWorktree(worktree, head);
    writeFileSync(join(worktree, 'train.py'), 'lr = 2\n');
    writeFileSync(join(worktree, 'new.py'), 'print(1)\n');
    const message = 'lr 2  \n\n\n  Strata-Trial: 3\n';
    const committed = (await repo.commitWorktree(worktree, head, message))!;
    expect(committed.changes).toEqual([
      { status: 'A', path: 'new.py' },
      { status: 'M', path: 'train.py' },
    ]);
    expect(committed.diff).toContain('+lr = 2');
    expect(gitIn(dir, 'log', '-1', '--format=%an <%ae>|%cn <%ce>|%P', committed.commit)).toBe(`Strata <strata@localhost>|Strata <strata@localhost>|${head}`);
    expect(gitIn(dir, 'rev-parse', `${committed.commit}^{tree}`)).toBe(gitIn(worktree, 'write-tree'));
    expect(execFileSync('git', ['cat-file', 'commit', committed.commit], { cwd: dir, encoding: 'utf8' }).split('\n\n').slice(1).join('\n\n')).toBe(message);
    gitIn(dir, 'fsck', '--strict', '--no-dangling');
    // A keep commits the same tree onto another parent.
    const kept = await repo.commitTreeOnto(committed.commit, head, 'kept\n');
    expect(gitIn(dir, 'rev-parse', `${kept}^{tree}`)).toBe(gitIn(dir, 'rev-parse', `${committed.commit}^{tree}`));
    expect(gitIn(dir, 'log', '-1', '--format=%P %s', kept)).toBe(`${head} kept`);
  });

  it('diffs a candidate as git diff --cached does: additions, deletions, modes, binaries, links, and paths that look like the end of an answer', async () => {
    const { dir, repo, head } = await repository({ 'train.py': 'lr = 1\n', 'old.txt': 'o\n', 'run.sh': 'echo\n' });
    const worktree = join(dir, '.strata', 'worktrees', 's', 'slot-0');
    await repo.prepareWorktree(worktree, head);
    const empty = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';
    writeFileSync(join(worktree, 'train.py'), 'lr = 2\n');
    rmSync(join(worktree, 'old.txt'));
    chmodSync(join(worktree, 'run.sh'), 0o755);
    writeFileSync(join(worktree, 'weights.bin'), Buffer.from([0, 1, 2, 255, 0]));
    execFileSync('ln', ['-s', 'train.py', join(worktree, 'link')]);
    writeFileSync(join(worktree, `a\n${empty} ${empty}\n\n`), 'marker\n');
    writeFileSync(join(worktree, 'z-forbidden.txt'), 'after the marker\n');
    writeFileSync(join(worktree, 'ünïcode.txt'), 'ü\n');
    const committed = (await repo.commitWorktree(worktree, head, 'all\n'))!;
    const expected = execFileSync('git', ['diff', '--cached', '--no-renames', '--no-color', '--patch-with-raw', '-z', head], { cwd: worktree, encoding: 'utf8' });
    const expectedPaths = expected.split('\0').filter((_, index, all) => index > 0 && all[index - 1]!.startsWith(':')).sort();
    expect(committed.changes.map((change) => change.path).sort()).toEqual(expectedPaths);
    expect(committed.changes.map((change) => change.path)).toContain('z-forbidden.txt');
    expect(committed.changes).toContainEqual({ status: 'D', path: 'old.txt' });
    expect(committed.changes).toContainEqual({ status: 'M', path: 'run.sh' });
    expect(committed.diff).toBe(expected.slice(expected.indexOf('\0\0') + 2));
    // Nothing changed: null, and the next diff still answers in step.
    await repo.prepareWorktree(worktree, committed.commit);
    expect(await repo.commitWorktree(worktree, committed.commit, 'none\n')).toBeNull();
    writeFileSync(join(worktree, 'train.py'), 'lr = 3\n');
    expect((await repo.commitWorktree(worktree, committed.commit, 'three\n'))!.changes).toEqual([{ status: 'M', path: 'train.py' }]);
  });

  it('writes the commit object commit-tree writes for the same time', async () => {
    const { dir, head } = await repository({ 'a.txt': 'a\n' });
    const tree = gitIn(dir, 'rev-parse', `${head}^{tree}`);
    const at = new Date('2026-03-04T05:06:07Z');
    const expected = execFileSync('git', ['commit-tree', tree, '-p', head, '-F', '-'], {
      cwd: dir,
      input: 'message\n',
      encoding: 'utf8',
      env: { ...process.env, GIT_AUTHOR_NAME: 'Strata', GIT_AUTHOR_EMAIL: 'strata@localhost', GIT_COMMITTER_NAME: 'Strata', GIT_COMMITTER_EMAIL: 'strata@localhost', GIT_AUTHOR_DATE: `${at.getTime() / 1000}`, GIT_COMMITTER_DATE: `${at.getTime() / 1000}` },
    }).trim();
    expect(execFileSync('git', ['cat-file', 'commit', expected], { cwd: dir, encoding: 'utf8' })).toBe(commitObject(tree, head, 'message\n', at));
  });

  it('moves refs with compare-and-swap: a move from the wrong value fails with git message, and the next one works', async () => {
    const { dir, repo, head } = await repository({ 'a.txt': 'a\n' });
    writeFileSync(join(dir, 'a.txt'), 'b\n');
    gitIn(dir, 'commit', '-qam', 'second');
    const second = gitIn(dir, 'rev-parse', 'HEAD');
    await repo.moveRef('refs/strata/s/trials/1-1', head);
    await repo.moveRef('refs/strata/s/trials/1-1', second, head);
    expect(gitIn(dir, 'rev-parse', 'refs/strata/s/trials/1-1')).toBe(second);
    const lost = await repo.moveRef('refs/strata/s/trials/1-1', head, head).catch((error: unknown) => error);
    expect(lost).toBeInstanceOf(GitError);
    expect((lost as GitError).message).toMatch(/refs\/strata\/s\/trials\/1-1/);
    expect(gitIn(dir, 'rev-parse', 'refs/strata/s/trials/1-1')).toBe(second);
    await repo.moveRef('refs/strata/s/trials/2-1', head);
    expect(gitIn(dir, 'rev-parse', 'refs/strata/s/trials/2-1')).toBe(head);
    const invalid = await repo.moveRef('refs/strata/s/bad..name', head).catch((error: unknown) => error);
    expect(invalid).toBeInstanceOf(GitError);
  });

  it('cleans a worktree of what a trial left (untracked, ignored, nested folders and repositories, odd names) and keeps what is tracked', async () => {
    const { dir, repo, head } = await repository({ 'train.py': 'x\n', 'src/model.py': 'm\n', 'src/deep/layer.py': 'l\n', '.gitignore': '*.pt\n' });
    const worktree = join(dir, '.strata', 'worktrees', 's', 'slot-0');
    await repo.prepareWorktree(worktree, head);
    const tracked = listing(worktree);
    // Nothing left: nothing removed.
    await repo.cleanWorktree(worktree);
    expect(listing(worktree)).toEqual(tracked);
    const leftovers: [string, () => void][] = [
      ['ignored file', () => writeFileSync(join(worktree, 'model.pt'), 'w')],
      ['untracked file deep down', () => writeFileSync(join(worktree, 'src', 'deep', 'cache.txt'), 'c')],
      ['empty folder', () => mkdirSync(join(worktree, 'src', 'empty'))],
      ['folder of files', () => (mkdirSync(join(worktree, 'out', 'a'), { recursive: true }), writeFileSync(join(worktree, 'out', 'a', 'b'), 'b'))],
      ['nested repository', () => (mkdirSync(join(worktree, 'vendor')), execFileSync('git', ['init', '-q'], { cwd: join(worktree, 'vendor') }))],
      ['name with a newline', () => writeFileSync(join(worktree, 'src', 'a\nb'), 'n')],
      ['non-UTF-8 name', () => writeFileSync(Buffer.concat([Buffer.from(`${worktree}/src/`), Buffer.from([0xff, 0xfe])]), 'x')],
      ['symlink out of the checkout', () => execFileSync('ln', ['-s', tmpdir(), join(worktree, 'src', 'link')])],
    ];
    for (const [what, leave] of leftovers) {
      leave();
      await repo.cleanWorktree(worktree);
      expect(listing(worktree), what).toEqual(tracked);
    }
    // After a candidate commit the index holds the candidate's tree: its new file stays, what the run wrote goes.
    writeFileSync(join(worktree, 'src', 'new.py'), 'n\n');
    await repo.commitWorktree(worktree, head, 'new\n');
    writeFileSync(join(worktree, 'checkpoint.pt'), 'w');
    await repo.cleanWorktree(worktree);
    expect(listing(worktree)).toEqual([...tracked, 'src/new.py'].sort());
  });

  it('cleans what it cannot read into with git clean', async () => {
    const { dir, repo, head } = await repository({ 'src/model.py': 'm\n' });
    const worktree = join(dir, '.strata', 'worktrees', 's', 'slot-0');
    await repo.prepareWorktree(worktree, head);
    writeFileSync(join(worktree, 'src', 'left.txt'), 'x');
    chmodSync(join(worktree, 'src'), 0o300);
    cleanups.unshift(() => chmodSync(join(worktree, 'src'), 0o755));
    await repo.cleanWorktree(worktree).catch(() => undefined);
    chmodSync(join(worktree, 'src'), 0o755);
    // Either git removed it, or it could not and the worktree was removed to be checked out anew.
    expect(existsSync(join(worktree, 'src', 'left.txt'))).toBe(false);
  });

  it('runs none of the programs a repository config or hook names, in its long-lived processes too', async () => {
    const { dir, repo, head } = await repository({ 'a.txt': 'a\n' });
    const markDir = mkdtempSync(join(tmpdir(), 'strata-mark-'));
    cleanups.push(() => rmSync(markDir, { recursive: true, force: true }));
    const mark = join(markDir, 'RAN');
    const script = join(markDir, 'planted.sh');
    writeFileSync(script, `#!/bin/sh\necho "$0 $*" >> ${JSON.stringify(mark)}\ncat >/dev/null\n`);
    chmodSync(script, 0o755);
    gitIn(dir, 'config', 'core.fsmonitor', script);
    for (const hook of ['reference-transaction', 'post-checkout', 'post-index-change', 'pre-commit', 'post-commit']) {
      writeFileSync(join(dir, '.git', 'hooks', hook), `#!/bin/sh\nexec ${script}\n`);
      chmodSync(join(dir, '.git', 'hooks', hook), 0o755);
    }
    const worktree = join(dir, '.strata', 'worktrees', 's', 'slot-0');
    await repo.prepareWorktree(worktree, head);
    writeFileSync(join(worktree, 'a.txt'), 'b\n');
    const committed = (await repo.commitWorktree(worktree, head, 'b\n'))!;
    await repo.moveRef('refs/strata/s/trials/1-1', committed.commit);
    writeFileSync(join(worktree, 'left.txt'), 'x');
    await repo.cleanWorktree(worktree);
    await repo.prepareWorktree(worktree, committed.commit);
    await repo.cleanWorktree(worktree);
    expect(existsSync(mark)).toBe(false);
  });

  it('lets the process exit with its git processes idle', () => {
    const dir = makeRepo({ 'a.txt': 'a\n' });
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const script = `
      import { StudyRepository } from ${JSON.stringify(join(import.meta.dirname, '..', '..', 'src', 'workspace', 'study-repository.ts'))};
      const repo = await StudyRepository.open(${JSON.stringify(dir)});
      const head = await repo.head();
      await repo.moveRef('refs/strata/x', head);
      const wt = ${JSON.stringify(join(dir, '.strata', 'wt'))};
      await repo.prepareWorktree(wt, head);
      await repo.cleanWorktree(wt);
      console.log('done ' + head.length);
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(out.trim()).toBe('done 40');
    expect(gitIn(dir, 'rev-parse', 'refs/strata/x')).toBe(gitIn(dir, 'rev-parse', 'HEAD'));
  });
});
