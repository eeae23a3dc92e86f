import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { git, gitText } from './git.ts';

/** What re-applying a candidate's change onto another commit produced. */
export interface ReappliedTree {
  /** The merged tree (with conflict markers in `conflicts`' files when there are any). */
  tree: string;
  /** Repository-relative paths that could not be merged. */
  conflicts: string[];
}

/**
 * Re-apply the change a candidate made to its parent onto `onto` (a
 * descendant of that parent), as a three-way merge of trees that touches no
 * worktree or ref: `git merge-tree --write-tree onto candidate`, whose merge
 * base is the candidate's parent. Conflicts in `takeCandidateFor` (files a
 * proposer writes whole, like strata.params.json) resolve to the candidate's
 * version; the others are returned.
 *
 * @example
 * const { tree, conflicts } = await reapplyOnto(repo.root, { candidate, onto: tip, takeCandidateFor: ['strata.params.json'] });
 */
export async function reapplyOnto(root: string, options: { candidate: string; onto: string; takeCandidateFor: readonly string[] }): Promise<ReappliedTree> {
  const merged = await git(['merge-tree', '--write-tree', '-z', '--name-only', '--no-messages', options.onto, options.candidate], root, { allowFailure: true });
  // Exit 1 means "merged with conflicts"; anything else is a real failure.
  if (merged.exitCode !== 0 && merged.exitCode !== 1) {
    await git(['merge-tree', '--write-tree', options.onto, options.candidate], root);
  }
  const [tree, ...paths] = merged.stdout.split('\0').filter(Boolean);
  const conflicts = [...new Set(paths)];
  const resolvable = conflicts.filter((path) => options.takeCandidateFor.includes(path));
  if (resolvable.length === 0) return { tree: tree!, conflicts };
  return { tree: await replacePaths(root, tree!, options.candidate, resolvable), conflicts: conflicts.filter((path) => !resolvable.includes(path)) };
}

/** The tree of a commit. */
export function treeOf(root: string, commit: string): Promise<string> {
  return gitText(['rev-parse', `${commit}^{tree}`], root);
}

/** `tree` with `paths` replaced by their version in `source` (removed where `source` has none), via a private index. */
async function replacePaths(root: string, tree: string, source: string, paths: readonly string[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-index-'));
  const env = { GIT_INDEX_FILE: join(dir, 'index') };
  try {
    await git(['read-tree', tree], root, { env });
    for (const path of paths) {
      const entry = (await git(['ls-tree', '-z', source, '--', path], root)).stdout.split('\0')[0] ?? '';
      if (entry === '') {
        await git(['update-index', '--force-remove', '--', path], root, { env });
        continue;
      }
      // "<mode> blob <oid>\t<path>" → update-index --index-info wants "<mode> <oid>\t<path>".
      const [meta] = entry.split('\t');
      const [mode, , oid] = meta!.split(' ');
      await git(['update-index', '--index-info'], root, { env, input: `${mode} ${oid}\t${path}\n` });
    }
    return (await git(['write-tree'], root, { env })).stdout.trim();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
