import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { StudyRepository } from '../workspace/study-repository.ts';

/**
 * Commit `files` (repository-relative path → text) on top of `base` in a
 * scratch worktree of our own (the user's checkout is never touched), and
 * return the new commit, or `base` when nothing changed. Texts get a final
 * newline, as the evolve loop writes its best components.
 *
 * @example
 * const commit = await commitFiles(repo, { base, files: { 'examples/x/program.md': text }, message: 'pipeline: hand-off', scratch });
 */
export async function commitFiles(
  repo: StudyRepository,
  options: { base: string; files: Record<string, string>; message: string; scratch: string },
): Promise<string> {
  if (Object.keys(options.files).length === 0) return options.base;
  // A killed run may have left the scratch checkout behind.
  await repo.removeWorktree(options.scratch);
  await repo.createWorktree(options.scratch, options.base);
  try {
    for (const [path, text] of Object.entries(options.files)) {
      const target = join(options.scratch, path);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, text.endsWith('\n') ? text : `${text}\n`);
    }
    const committed = await repo.commitWorktree(options.scratch, options.base, options.message);
    return committed?.commit ?? options.base;
  } finally {
    await repo.removeWorktree(options.scratch);
  }
}
