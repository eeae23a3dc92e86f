import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, rm } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { GitError, StudyStateError } from '../core/errors.ts';
import { CommitWriter } from './commit-writer.ts';
import { git, gitText } from './git.ts';
import { RefUpdater } from './ref-updater.ts';
import { TreeDiff } from './tree-diff.ts';
import { TreeReader } from './tree-reader.ts';

/** One path a commit changed, relative to the repository root. */
export interface ChangedPath {
  status: string;
  path: string;
}

/**
 * The user's git repository as Strata uses it: a study branch, a worktree
 * per trial under `.strata/worktrees/`, and refs that keep every trial's
 * commit reachable. The user's own checkout is never modified.
 */
export class StudyRepository {
  /** Absolute path of the repository's top level. */
  readonly root: string;
  /** Long-lived git processes for the writes every trial makes (see git-batch.ts). */
  private readonly refs: RefUpdater;
  private readonly commits: CommitWriter;
  private readonly trees: TreeReader;
  private readonly diffs: TreeDiff;
  /** Per worktree Strata checked out or committed in: the tree its index holds, so a clean can first look whether there is anything to remove. */
  private readonly indexHolds = new Map<string, string>();
  /** The trees of commits this repository wrote, so a keep commits the same tree without asking git. */
  private readonly treeOf = new Map<string, string>();

  private constructor(root: string) {
    this.root = root;
    this.refs = new RefUpdater(root);
    this.commits = new CommitWriter(root);
    this.trees = new TreeReader(root);
    this.diffs = new TreeDiff(root);
  }

  /** Find the repository containing `dir`; a clear error when there is none or it has no commit. */
  static async open(dir: string): Promise<StudyRepository> {
    const found = await git(['rev-parse', '--show-toplevel'], dir, { allowFailure: true });
    if (found.exitCode !== 0) {
      throw new StudyStateError(`${dir} is not inside a git repository: run \`git init\` and commit your training code first`, { dir });
    }
    const repo = new StudyRepository(found.stdout.trim());
    const head = await git(['rev-parse', '--verify', '--quiet', 'HEAD^{commit}'], repo.root, { allowFailure: true });
    if (head.exitCode !== 0) {
      throw new StudyStateError(`the repository at ${repo.root} has no commit yet: commit your training code first (git add … && git commit)`, {
        root: repo.root,
      });
    }
    return repo;
  }

  /** Where Strata keeps its files (ledger, logs, worktrees): `<root>/.strata`, ignored by git. */
  get stateDir(): string {
    return join(this.root, '.strata');
  }

  /** Add `.strata/` to the repository's info/exclude so it never shows as untracked. */
  async ignoreStateDir(): Promise<void> {
    const commonDir = resolve(this.root, await gitText(['rev-parse', '--git-common-dir'], this.root));
    const exclude = join(commonDir, 'info', 'exclude');
    const current = await readFile(exclude, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return '';
      throw error;
    });
    if (current.split('\n').some((line) => line.trim() === '/.strata/' || line.trim() === '.strata/')) return;
    try {
      await mkdir(join(commonDir, 'info'), { recursive: true });
      await appendFile(exclude, `${current.endsWith('\n') || current === '' ? '' : '\n'}# Strata's ledger, logs and worktrees\n/.strata/\n`);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EROFS' && code !== 'EACCES' && code !== 'EPERM') throw error;
      // The first write a study makes: a read-only repository is said once, here, with what still works.
      throw new StudyStateError(
        `the repository at ${this.root} is read-only (${code} writing ${exclude}): a study writes its ledger, logs and worktrees under .strata/ and its commits under .git/. ` +
          'Make it writable or work in a writable clone; `strata status`, `strata serve` and `strata report` work here as they are',
        { root: this.root, code },
      );
    }
  }

  async resolveCommit(ref: string): Promise<string | null> {
    const result = await git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], this.root, { allowFailure: true });
    return result.exitCode === 0 ? result.stdout.trim() : null;
  }

  async head(): Promise<string> {
    return gitText(['rev-parse', 'HEAD'], this.root);
  }

  /** Create `refs/heads/<branch>` at `commit` unless it exists; returns the branch tip. */
  async ensureBranch(branch: string, commit: string): Promise<string> {
    const existing = await this.resolveCommit(`refs/heads/${branch}`);
    if (existing) return existing;
    await git(['update-ref', `refs/heads/${branch}`, commit, ''], this.root);
    return commit;
  }

  /** Move a ref from `expected` to `commit`, failing if someone else moved it (compare-and-swap). */
  async moveRef(ref: string, commit: string, expected?: string): Promise<void> {
    await this.refs.move(ref, commit, expected);
  }

  async createWorktree(path: string, commit: string): Promise<void> {
    await mkdir(resolve(path, '..'), { recursive: true });
    this.indexHolds.delete(resolve(path));
    await worktreeAdmin(this.root, () => git(['worktree', 'add', '--quiet', '--detach', '--force', path, commit], this.root));
    this.indexHolds.set(resolve(path), `${commit}^{tree}`);
  }

  /** Remove a worktree and everything in it (untracked files included); quiet when already gone. */
  async removeWorktree(path: string): Promise<void> {
    this.indexHolds.delete(resolve(path));
    const result = await worktreeAdmin(this.root, () => git(['worktree', 'remove', '--force', '--force', path], this.root, { allowFailure: true }));
    if (result.exitCode !== 0 && !/is not a working tree|does not exist|No such file/.test(result.stderr)) {
      throw new GitError(`could not remove worktree ${path}: ${result.stderr.trim()}`, {
        args: ['worktree', 'remove', path],
        exitCode: result.exitCode,
        stderr: result.stderr,
        cwd: this.root,
      });
    }
    await rm(path, { recursive: true, force: true });
  }

  /**
   * Remove every worktree under `dir` (stale ones from a killed run) except
   * those in `keep` (worktrees a still-running cluster job works in), and
   * prune git's records.
   */
  async pruneWorktrees(dir: string, keep: readonly string[] = []): Promise<string[]> {
    const list = await gitText(['worktree', 'list', '--porcelain'], this.root);
    const stale = list
      .split('\n')
      .filter((line) => line.startsWith('worktree '))
      .map((line) => line.slice('worktree '.length))
      .filter((path) => !relative(dir, path).startsWith('..') && !isAbsolute(relative(dir, path)) && path !== dir)
      .filter((path) => !keep.some((kept) => resolve(kept) === resolve(path)));
    for (const path of stale) await this.removeWorktree(path);
    if (keep.length === 0) await rm(dir, { recursive: true, force: true });
    await worktreeAdmin(this.root, () => git(['worktree', 'prune'], this.root));
    return stale;
  }

  /**
   * Stage everything in a worktree (our own worktree, never the user's) and
   * commit it on top of `parent` (the commit the worktree was checked out at).
   * Returns the commit, the changed paths and the patch; null when nothing changed.
   */
  async commitWorktree(worktree: string, parent: string, message: string): Promise<{ commit: string; changes: ChangedPath[]; diff: string } | null> {
    this.indexHolds.delete(resolve(worktree));
    await git(['add', '--all', '--', '.'], worktree);
    const [tree, parentTree] = await Promise.all([gitText(['write-tree'], worktree), this.trees.treeId(`${parent}^{tree}`)]);
    this.indexHolds.set(resolve(worktree), tree);
    if (tree === parentTree) return null;
    // The clean after the run walks this tree: read it meanwhile.
    this.trees.prefetch(tree);
    // The changed paths and the patch in one answer from the long-lived diff-tree, the commit written beside it.
    const [raw, commit] = await Promise.all([this.diffs.diff(parentTree, tree), this.commits.write(tree, parent, message)]);
    const { changes, diff } = parseRawWithPatch(raw);
    this.rememberTree(commit, tree);
    return { commit, changes, diff };
  }

  /**
   * Check a worktree out at `commit`, reusing it when it exists (much cheaper
   * than adding a new one per trial; it was cleaned after its last trial).
   */
  async prepareWorktree(path: string, commit: string): Promise<void> {
    if (existsSync(join(path, '.git'))) {
      // cleanWorktree ran after the previous trial, and a killed run's worktrees are pruned on start.
      this.indexHolds.delete(resolve(path));
      const checkout = await git(['checkout', '--quiet', '--detach', '--force', commit], path, { allowFailure: true });
      if (checkout.exitCode === 0) {
        this.indexHolds.set(resolve(path), `${commit}^{tree}`);
        return;
      }
      await this.removeWorktree(path);
    }
    await this.createWorktree(path, commit);
  }

  /** Remove what a trial left in a reused worktree: untracked and ignored files (checkpoints, caches). */
  async cleanWorktree(path: string): Promise<void> {
    if (!existsSync(path)) return; // already removed (pruned at the end of a study, or never created)
    // Most trials leave nothing behind: looking costs a directory walk, `git clean` a process start.
    const holds = this.indexHolds.get(resolve(path));
    if (holds !== undefined && !(await this.trees.hasUntracked(path, holds).catch(() => true))) return; // unreadable folders and the like: git clean decides
    let clean;
    try {
      clean = await git(['clean', '-ffdxq'], path, { allowFailure: true });
    } catch (error) {
      if (!existsSync(path)) return; // removed while we cleaned it
      throw error;
    }
    if (clean.exitCode !== 0) await this.removeWorktree(path);
  }


  /** Paths changed between two commits (additions, deletions, mode changes), renames as delete + add. */
  async changedPaths(from: string, to: string): Promise<ChangedPath[]> {
    return parseNameStatus((await git(['diff', '--no-renames', '--name-status', '-z', from, to], this.root)).stdout);
  }

  async diff(from: string, to: string): Promise<string> {
    return (await git(['diff', '--no-color', '--no-ext-diff', from, to], this.root)).stdout;
  }

  /** A new commit with `commit`'s tree on top of `parent`, with `message` (used to record a keep on the study branch). */
  async commitTreeOnto(commit: string, parent: string, message: string): Promise<string> {
    const tree = this.treeOf.get(commit);
    if (tree === undefined) return gitText(['commit-tree', `${commit}^{tree}`, '-p', parent, '-F', '-'], this.root, { identity: true, input: message });
    const written = await this.commits.write(tree, parent, message);
    this.rememberTree(written, tree);
    return written;
  }

  private rememberTree(commit: string, tree: string): void {
    if (this.treeOf.size >= 10_000) this.treeOf.clear();
    this.treeOf.set(commit, tree);
  }

  /** Is `ancestor` an ancestor of (or equal to) `descendant`? */
  async isAncestor(ancestor: string, descendant: string): Promise<boolean> {
    const result = await git(['merge-base', '--is-ancestor', ancestor, descendant], this.root, { allowFailure: true });
    return result.exitCode === 0;
  }

  /** Does `path` (repository-relative) exist in `commit`? */
  async hasPath(commit: string, path: string): Promise<boolean> {
    const result = await git(['cat-file', '-e', `${commit}:${path}`], this.root, { allowFailure: true });
    return result.exitCode === 0;
  }

  /** Repository-relative paths with uncommitted changes in the user's checkout, under `subdir`. */
  async uncommitted(subdir: string): Promise<string[]> {
    const out = (await git(['status', '--porcelain', '-z', '--', subdir || '.'], this.root)).stdout;
    return out
      .split('\0')
      .filter((entry) => entry.length > 3)
      .map((entry) => entry.slice(3));
  }
}

/** Parse `git diff --name-status -z` output. */
function parseNameStatus(out: string): ChangedPath[] {
  const fields = out.split('\0').filter((field) => field !== '');
  const changes: ChangedPath[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) changes.push({ status: fields[i]!, path: fields[i + 1]! });
  return changes;
}

/**
 * Parse `git diff --patch-with-raw -z`: raw entries (`:modes shas status\0path\0`),
 * a NUL, then the patch text.
 */
function parseRawWithPatch(out: string): { changes: ChangedPath[]; diff: string } {
  const changes: ChangedPath[] = [];
  let at = 0;
  while (out[at] === ':') {
    const metaEnd = out.indexOf('\0', at);
    const pathEnd = out.indexOf('\0', metaEnd + 1);
    if (metaEnd < 0 || pathEnd < 0) break;
    const meta = out.slice(at, metaEnd).split(' ');
    changes.push({ status: meta[meta.length - 1]!, path: out.slice(metaEnd + 1, pathEnd) });
    at = pathEnd + 1;
  }
  return { changes, diff: out[at] === '\0' ? out.slice(at + 1) : out.slice(at) };
}

/** Per repository, the worktree administration (add, remove, prune) in flight: one at a time. */
const adminQueues = new Map<string, Promise<unknown>>();

/**
 * Run `operation` after every earlier worktree add/remove/prune of the same
 * repository. Git writes a worktree's records under .git/worktrees/<name> in
 * several steps, and a concurrent add reads every record: run side by side
 * (several slots checking out at once), one fails with "failed to read
 * .git/worktrees/<name>/commondir".
 */
function worktreeAdmin<T>(root: string, operation: () => Promise<T>): Promise<T> {
  const before = adminQueues.get(root) ?? Promise.resolve();
  const run = before.then(operation, operation);
  const settled = run.then(
    () => undefined,
    () => undefined,
  );
  adminQueues.set(root, settled);
  void settled.then(() => {
    if (adminQueues.get(root) === settled) adminQueues.delete(root);
  });
  return run;
}
