import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readBranchHistory } from '../../src/import/branch-history.ts';
import type { ResultRow } from '../../src/import/results-tsv.ts';
import { gitIn, makeRepo } from '../helpers/study-repo.ts';

const row = (line: number, commit: string, status: ResultRow['status'], description = `row ${line}`): ResultRow => ({
  line,
  commit,
  status,
  metric: 1,
  metrics: {},
  description,
  cells: {},
});

/** git's output as printed, untrimmed (a root commit's parents line is empty). */
const raw = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' });

describe('readBranchHistory (batched git lookups)', () => {
  it('gives each commit the facts single git commands give: parent, date, subject, the diff against its parent', async () => {
    const repo = makeRepo({ 'train.py': 'LR = 0.04\n', 'notes.txt': 'a\nb\nc\nd\ne\n' });
    gitIn(repo, 'checkout', '-q', '-b', 'autoresearch/x');
    const commit = (message: string, change: () => void) => {
      change();
      gitIn(repo, 'add', '-A');
      gitIn(repo, 'commit', '-q', '--allow-empty', '-m', message);
      return gitIn(repo, 'rev-parse', 'HEAD');
    };
    const root = gitIn(repo, 'rev-parse', 'HEAD');
    const edit = commit('raise LR: "quoted" subject', () => writeFileSync(join(repo, 'train.py'), 'LR = 0.06\n'));
    const rename = commit('rename notes', () => gitIn(repo, 'mv', 'notes.txt', 'notes.md'));
    const empty = commit('nothing changed', () => {});
    gitIn(repo, 'checkout', '-q', '-b', 'side', root);
    commit('side change', () => writeFileSync(join(repo, 'side.txt'), 'side\n'));
    gitIn(repo, 'checkout', '-q', 'autoresearch/x');
    gitIn(repo, 'merge', '-q', '--no-ff', '-m', 'merge side', 'side');
    const merge = gitIn(repo, 'rev-parse', 'HEAD');
    const discarded = commit('a discarded idea', () => writeFileSync(join(repo, 'train.py'), 'LR = 9\n'));
    gitIn(repo, 'reset', '-q', '--hard', 'HEAD~1');

    const short = (sha: string) => sha.slice(0, 7);
    const rows = [
      row(2, short(root), 'keep', 'baseline'),
      row(3, short(edit), 'keep'),
      row(4, rename, 'keep'),
      row(5, short(empty), 'keep'),
      row(6, short(merge), 'keep'),
      row(7, short(discarded), 'discard'),
      row(8, 'deadbee', 'discard'),
      row(9, short(edit), 'discard'),
    ];
    const history = await readBranchHistory(repo, rows);
    expect(history).toMatchObject({ branch: 'autoresearch/x', tip: merge, base: root, unlisted: [], keptOffBranch: [] });
    expect([...history.commits.keys()]).toEqual([short(root), short(edit), rename, short(empty), short(merge), short(discarded)]);
    for (const sha of [root, edit, rename, empty, merge, discarded]) {
      const facts = [...history.commits.values()].find((entry) => entry.commit === sha)!;
      const [parents, date, subject] = raw(repo, 'show', '--no-patch', '--format=%P%n%cI%n%s', sha).split('\n');
      const parent = parents!.split(' ').filter(Boolean)[0] ?? null;
      expect(facts).toEqual({
        commit: sha,
        parent,
        committedAt: date,
        subject,
        // What `git diff parent commit` prints, renames detected as its default does.
        diff: parent === null ? '' : raw(repo, 'diff', '--no-color', '--no-ext-diff', parent, sha),
      });
    }
    expect(history.commits.get(rename)!.diff).toContain('rename from notes.txt');
    expect(history.commits.get(short(merge))!.diff).toContain('+side');
    expect(history.commits.get(short(discarded))!.diff).toContain('+LR = 9');
  });
});
