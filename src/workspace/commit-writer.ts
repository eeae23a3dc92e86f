import { mkdtempSync, rmSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gitText } from './git.ts';
import { GitBatchProcess } from './git-batch.ts';

/** Name and email of the commits Strata makes (also given to `git commit-tree` as user.name and user.email). */
export const STRATA_IDENTITY = { name: 'Strata', email: 'strata@localhost' } as const;

/** Environment variables that change what `git commit-tree` writes: when one is set, commit-tree writes the commit. */
const IDENTITY_ENV = ['GIT_AUTHOR_NAME', 'GIT_AUTHOR_EMAIL', 'GIT_AUTHOR_DATE', 'GIT_COMMITTER_NAME', 'GIT_COMMITTER_EMAIL', 'GIT_COMMITTER_DATE'];

let scratch: string | undefined;
let written = 0;

/**
 * Writes Strata's commits (a tree on one parent, Strata as author and
 * committer, now, in the local time zone) through a long-lived
 * `git hash-object -w -t commit --stdin-paths`: the object `git commit-tree`
 * would write, without a process start per trial. git checks the object's
 * format before it writes it. With GIT_AUTHOR_* or GIT_COMMITTER_* set in the
 * environment it runs `git commit-tree` itself, which honours them.
 *
 * @example
 * const commit = await new CommitWriter(repo.root).write(tree, parent, 'lr 0.01\n\nStrata-Trial: 3\n');
 */
export class CommitWriter {
  private readonly root: string;
  private readonly batch: GitBatchProcess;

  constructor(root: string) {
    this.root = root;
    this.batch = new GitBatchProcess(['hash-object', '-w', '-t', 'commit', '--stdin-paths', '--no-filters'], root);
  }

  /** A new commit of `tree` (an object name of a tree) on `parent`, with `message` as given. */
  async write(tree: string, parent: string, message: string): Promise<string> {
    if (IDENTITY_ENV.some((name) => process.env[name] !== undefined) || !/^[0-9a-f]{40,64}$/.test(tree) || !/^[0-9a-f]{40,64}$/.test(parent)) {
      return gitText(['-c', `user.name=${STRATA_IDENTITY.name}`, '-c', `user.email=${STRATA_IDENTITY.email}`, 'commit-tree', tree, '-p', parent, '-F', '-'], this.root, { input: message });
    }
    const file = join(scratchDir(), `commit-${process.pid}-${written++}`);
    await writeFile(file, commitObject(tree, parent, message, new Date()), { mode: 0o600 });
    try {
      return await this.batch.request(`${file}\n`, (out) => {
        const end = out.indexOf('\n');
        return end < 0 ? null : { consumed: end + 1, value: out.slice(0, end) };
      });
    } finally {
      await rm(file, { force: true });
    }
  }

  close(): void {
    this.batch.close();
  }
}

/** The text of a commit object as `git commit-tree` writes it for Strata's identity. */
export function commitObject(tree: string, parent: string, message: string, at: Date): string {
  const offset = -at.getTimezoneOffset();
  const zone = `${offset < 0 ? '-' : '+'}${String(Math.floor(Math.abs(offset) / 60)).padStart(2, '0')}${String(Math.abs(offset) % 60).padStart(2, '0')}`;
  const ident = `${STRATA_IDENTITY.name} <${STRATA_IDENTITY.email}> ${Math.floor(at.getTime() / 1000)} ${zone}`;
  return `tree ${tree}\nparent ${parent}\nauthor ${ident}\ncommitter ${ident}\n\n${message}`;
}

/** A private folder for the objects on their way to git, removed when the process exits. */
function scratchDir(): string {
  if (scratch === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'strata-commits-'));
    scratch = dir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return scratch;
}
