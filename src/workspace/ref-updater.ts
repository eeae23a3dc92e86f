import { git } from './git.ts';
import { GitBatchProcess } from './git-batch.ts';

/**
 * Moves refs of one repository through a long-lived `git update-ref --stdin`,
 * one transaction per move (start, update, prepare, commit): the same
 * compare-and-swap as `git update-ref <ref> <new> <old>`, without a process
 * start per trial. A ref git would refuse fails the same way, with git's message.
 *
 * @example
 * const refs = new RefUpdater(repo.root);
 * await refs.move('refs/strata/s/trials/3-1', commit);
 */
export class RefUpdater {
  private readonly root: string;
  private readonly batch: GitBatchProcess;

  constructor(root: string) {
    this.root = root;
    this.batch = new GitBatchProcess(['update-ref', '--stdin'], root);
  }

  /** Point `ref` at `commit`; with `expected`, only if it points there now. */
  async move(ref: string, commit: string, expected?: string): Promise<void> {
    // The protocol is line- and space-separated: anything else goes through a process of its own.
    if (![ref, commit, expected ?? ''].every((part) => /^[^\s]*$/.test(part)) || ref === '' || commit === '') {
      await git(['update-ref', ref, commit, ...(expected ? [expected] : [])], this.root);
      return;
    }
    await this.batch.request(`start\nupdate ${ref} ${commit}${expected ? ` ${expected}` : ''}\nprepare\ncommit\n`, (out) => {
      const end = out.indexOf('commit: ok\n');
      return end < 0 ? null : { consumed: end + 'commit: ok\n'.length, value: undefined };
    });
  }

  close(): void {
    this.batch.close();
  }
}
