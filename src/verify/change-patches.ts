/**
 * Commits built from a study's kept changes without touching any checkout:
 * each change is its diff (parent → kept commit), applied forward or in
 * reverse onto another commit through a scratch index, so the user's
 * worktree and the study's worktrees never move. A patch that does not apply
 * is returned as a conflict with git's words, never skipped.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { git } from '../workspace/git.ts';
import type { StudyRepository } from '../workspace/study-repository.ts';

/** A patch applied onto a commit: the new commit, or why it did not apply. */
export type PatchResult = { commit: string; conflict?: undefined } | { commit?: undefined; conflict: string };

/** The binary-safe diff of one kept change. */
export async function changePatch(repo: StudyRepository, parent: string, kept: string): Promise<string> {
  return (await git(['diff', '--binary', '--no-color', '--full-index', parent, kept], repo.root)).stdout;
}

/**
 * Apply `patch` (in reverse with `reverse`) onto `onto` and commit the result with `message`.
 *
 * @example
 * const without = await applyPatchOnto(repo, best, await changePatch(repo, parent, kept), { reverse: true, message: 'best without #7' });
 * if (without.conflict) report(without.conflict);
 */
export async function applyPatchOnto(repo: StudyRepository, onto: string, patch: string, options: { reverse: boolean; message: string }): Promise<PatchResult> {
  const index = join(repo.stateDir, `verify-index-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const env = { GIT_INDEX_FILE: index };
  try {
    await mkdir(repo.stateDir, { recursive: true });
    await git(['read-tree', onto], repo.root, { env });
    if (patch.trim() !== '') {
      const applied = await git(['apply', '--cached', '--whitespace=nowarn', ...(options.reverse ? ['-R'] : []), '-'], repo.root, { env, input: patch, allowFailure: true });
      if (applied.exitCode !== 0) return { conflict: applied.stderr.trim().split('\n').slice(0, 4).join('; ') || `git apply exited ${applied.exitCode}` };
    }
    const tree = (await git(['write-tree'], repo.root, { env })).stdout.trim();
    const commit = (await git(['commit-tree', tree, '-p', onto, '-F', '-'], repo.root, { env, identity: true, input: options.message })).stdout.trim();
    return { commit };
  } finally {
    await rm(index, { force: true });
  }
}

/** The tree of a commit (two commits with one tree measure the same code). */
export async function treeOf(repo: StudyRepository, commit: string): Promise<string> {
  return (await git(['rev-parse', `${commit}^{tree}`], repo.root)).stdout.trim();
}
