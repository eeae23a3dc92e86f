import { git, gitText } from './git.ts';

/** What picking a change onto another commit produced. */
export interface PickedTree {
  tree: string;
  /** Repository-relative paths that could not be merged. */
  conflicts: string[];
}

/**
 * The change from `base` to `change`, applied onto `onto` as a three-way
 * merge of trees (what `git cherry-pick` does), touching no worktree, index
 * or ref. Unlike reapplyOnto, `onto` need not descend from `base`: a veto
 * removes a commit from under later ones, and their merge base in history
 * would bring the vetoed change back. git before 2.40 has no
 * `merge-tree --merge-base`, so the base is made explicit with three
 * parentless commits sharing one root (objects only; unreachable, so gc
 * drops them).
 *
 * @example
 * const { tree, conflicts } = await pickOnto(repo.root, { base: vetoed, change: laterKeep, onto: parentOfVetoed });
 */
export async function pickOnto(root: string, options: { base: string; change: string; onto: string }): Promise<PickedTree> {
  const commitOf = async (tree: string, parent?: string) =>
    gitText(['commit-tree', tree, ...(parent ? ['-p', parent] : []), '-m', 'strata pick'], root, { identity: true });
  const treeOf = (commit: string) => gitText(['rev-parse', `${commit}^{tree}`], root);
  const root0 = await commitOf(await treeOf(options.base));
  const ours = await commitOf(await treeOf(options.onto), root0);
  const theirs = await commitOf(await treeOf(options.change), root0);
  const merged = await git(['merge-tree', '--write-tree', '-z', '--name-only', '--no-messages', ours, theirs], root, { allowFailure: true });
  // Exit 1 means "merged with conflicts"; anything else is a real failure, rerun to throw with git's message.
  if (merged.exitCode !== 0 && merged.exitCode !== 1) await git(['merge-tree', '--write-tree', ours, theirs], root);
  const [tree, ...paths] = merged.stdout.split('\0').filter(Boolean);
  return { tree: tree!, conflicts: [...new Set(paths)] };
}

/** A commit of `tree` on `parent` with `message`. */
export function commitTree(root: string, tree: string, parent: string, message: string): Promise<string> {
  return gitText(['commit-tree', tree, '-p', parent, '-F', '-'], root, { identity: true, input: message });
}

/** The commits from `from` (exclusive) to `to` along first parents, oldest first. */
export async function firstParentChain(root: string, from: string, to: string): Promise<string[]> {
  const text = await gitText(['rev-list', '--first-parent', '--reverse', to, `^${from}`], root);
  return text === '' ? [] : text.split('\n');
}

/** A commit's message. */
export function commitMessage(root: string, commit: string): Promise<string> {
  return gitText(['log', '-1', '--format=%B', commit], root);
}
