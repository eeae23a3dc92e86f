import { StudyStateError } from '../core/errors.ts';
import { gitText } from './git.ts';

/** An existing ref that would keep a new study's refs from being created. */
export interface RefConflict {
  /** The existing ref, e.g. `refs/heads/strata/a/b`. */
  ref: string;
  /** The study it belongs to (`a/b`), when it is one of Strata's. */
  study: string | null;
  /** The new study's ref it collides with. */
  wanted: string;
}

/**
 * The first ref in `existing` that would stop git from creating the refs of
 * a study named `name`: its branch `refs/heads/strata/<name>` and its trial
 * refs `refs/strata/<name>/trials/<id>`. Git stores refs as paths, so one
 * cannot be both a ref and a folder of refs: `strata/a` and `strata/a/b`
 * cannot both exist. Pure; see {@link assertNoStudyRefConflict} for the check
 * against a repository.
 *
 * @example
 * studyRefConflict('a', ['refs/heads/strata/a/b']); // { ref: 'refs/heads/strata/a/b', study: 'a/b', wanted: 'refs/heads/strata/a' }
 */
export function studyRefConflict(name: string, existing: readonly string[]): RefConflict | undefined {
  const branch = `refs/heads/strata/${name}`;
  const trials = `refs/strata/${name}/trials`;
  for (const ref of existing) {
    // An existing ref where the new study needs a folder (a branch strata/a for a study a/b, a trial ref at refs/strata/a/trials/3-1 for a study a/trials/3-1).
    if (branch.startsWith(`${ref}/`)) return { ref, study: studyOf(ref), wanted: branch };
    if (trials.startsWith(`${ref}/`) || trials === ref) return { ref, study: studyOf(ref), wanted: `${trials}/…` };
    // Existing refs inside what the new study needs as a ref: strata/a/b under a new branch strata/a, or refs under one trial ref.
    if (ref.startsWith(`${branch}/`)) return { ref, study: studyOf(ref), wanted: branch };
    if (ref.startsWith(`${trials}/`) && ref.slice(trials.length + 1).includes('/')) return { ref, study: studyOf(ref), wanted: `${trials}/${ref.slice(trials.length + 1).split('/')[0]}` };
  }
  return undefined;
}

/**
 * Refuse to create a study whose refs would collide with refs already in the
 * repository, before anything is written to the ledger; the message names
 * the conflicting study and branch.
 *
 * @example
 * await assertNoStudyRefConflict(repo.root, 'a'); // throws when strata/a/b exists
 */
export async function assertNoStudyRefConflict(repositoryRoot: string, name: string): Promise<void> {
  const listed = await gitText(['for-each-ref', '--format=%(refname)', 'refs/heads/strata/', 'refs/strata/'], repositoryRoot);
  const conflict = studyRefConflict(name, listed.split('\n').filter((line) => line !== ''));
  if (!conflict) return;
  const shortRef = (ref: string) => ref.replace(/^refs\/heads\//, '');
  const theirs = conflict.ref.startsWith('refs/heads/') ? `branch ${shortRef(conflict.ref)}` : `ref ${conflict.ref}`;
  const owner = conflict.study === null ? '' : ` of study "${conflict.study}"`;
  const fix = conflict.ref.startsWith('refs/heads/') ? `git branch -D ${shortRef(conflict.ref)}` : `git update-ref -d ${conflict.ref}`;
  throw new StudyStateError(
    `study "${name}" cannot be created: its ${conflict.wanted.startsWith('refs/heads/') ? `branch ${shortRef(conflict.wanted)}` : `refs ${conflict.wanted}`} would collide with ${theirs}${owner} (git cannot keep a ref both as a name and as a folder of names); choose another name (e.g. "${name.replaceAll('/', '-')}-2"), or remove the other one (${fix})`,
    { study: name, conflictingRef: conflict.ref, conflictingStudy: conflict.study },
  );
}

/** The study a Strata ref belongs to: `refs/heads/strata/<study>` or `refs/strata/<study>/trials/<id>`. */
function studyOf(ref: string): string | null {
  const branch = /^refs\/heads\/strata\/(.+)$/.exec(ref);
  if (branch) return branch[1]!;
  return /^refs\/strata\/(.+)\/trials\/[^/]+$/.exec(ref)?.[1] ?? null;
}
