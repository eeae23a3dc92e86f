import { GitError } from '../core/errors.ts';
import { GitBatchProcess } from './git-batch.ts';

/** The empty tree, in each object format: diffed against itself it marks the end of an answer. */
const EMPTY_TREE: Record<number, string> = {
  40: '4b825dc642cb6eb9a060e54bf8d69288fbee4904',
  64: '6ef19b41225c5369f1c104d45d8d85efa9b057b53b14b4b9b939dd74decc5321',
};

/**
 * Diffs two trees of one repository through a long-lived
 * `git diff-tree --stdin`: the raw entries (`-z`) and the patch that
 * `git diff --cached --patch-with-raw -z` prints for the same trees, without
 * a process start per trial. Plumbing: the user's diff.* settings do not
 * change it. Each request is followed by the empty tree diffed against
 * itself, whose echo closes the answer (no line of a patch can equal it:
 * patch lines have a prefix, and paths with a newline are quoted).
 *
 * @example
 * const raw = await new TreeDiff(repo.root).diff(parentTree, candidateTree);
 */
export class TreeDiff {
  private readonly root: string;
  private readonly batch: GitBatchProcess;

  constructor(root: string) {
    this.root = root;
    this.batch = new GitBatchProcess(['diff-tree', '--stdin', '-r', '--no-renames', '--no-color', '--no-ext-diff', '--no-textconv', '--patch-with-raw', '-z'], root);
  }

  /** `--patch-with-raw -z` output from tree `from` to tree `to` (full object names of trees). */
  async diff(from: string, to: string): Promise<string> {
    const empty = EMPTY_TREE[from.length];
    if (empty === undefined || !/^[0-9a-f]+$/.test(from) || !/^[0-9a-f]+$/.test(to) || to.length !== from.length) {
      throw new GitError(`cannot diff ${from} and ${to}: not two full tree names`, { args: ['diff-tree', '--stdin', from, to], exitCode: null, stderr: '', cwd: this.root });
    }
    const header = `${from} ${to}\n`;
    const end = `${empty} ${empty}\n\n`;
    // The answer: the request echoed, the raw entries, a NUL and the patch, and the blank line that flushed it echoed.
    const body = await this.batch.request(`${header}\n${end}`, (out) => {
      // Thrown, the process is closed and the next request starts a fresh one.
      if (out.length >= header.length && !out.startsWith(header)) {
        throw new GitError(`git diff-tree --stdin answered out of step for ${from} ${to}`, { args: ['diff-tree', '--stdin', from, to], exitCode: null, stderr: out.slice(0, 200), cwd: this.root });
      }
      if (!out.endsWith(end)) return null;
      const inner = out.slice(header.length, out.length - end.length);
      return complete(inner) ? { consumed: out.length, value: inner } : null;
    });
    return Buffer.from(body.slice(0, -1), 'latin1').toString('utf8');
  }

  close(): void {
    this.batch.close();
  }
}

/**
 * Whether `body` is a whole answer: every raw entry ends in its path's NUL,
 * then the patch after a NUL (or nothing changed), then the echoed newline.
 * A path may hold newlines (-z leaves it unquoted): one that looks like the
 * end marker must not end the answer early and hide the entries after it.
 */
function complete(body: string): boolean {
  let at = 0;
  while (body[at] === ':') {
    const metaEnd = body.indexOf('\0', at);
    const pathEnd = metaEnd < 0 ? -1 : body.indexOf('\0', metaEnd + 1);
    if (pathEnd < 0) return false;
    at = pathEnd + 1;
  }
  return at === 0 ? body === '\n' : body[at] === '\0' && body.endsWith('\n');
}
