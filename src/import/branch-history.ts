import { git, gitText } from '../workspace/git.ts';
import { ImportError } from './import-error.ts';
import type { ResultRow } from './results-tsv.ts';

/** What git still knows about one experiment's commit. */
export interface CommitFacts {
  commit: string;
  /** Its first parent (what the experiment started from). */
  parent: string | null;
  subject: string;
  committedAt: string;
  /** The change against its parent. */
  diff: string;
}

/** The branch an autoresearch run advanced, and the commits of its results. */
export interface BranchHistory {
  /** `autoresearch/mar5`, or null when no branch holds the kept commits. */
  branch: string | null;
  tip: string | null;
  /** The commit the run started from: the baseline row's commit, else the parent of the first known commit. */
  base: string | null;
  /** Facts by the commit text written in results.tsv; absent when git no longer has it (a discarded commit after gc, another clone). */
  commits: Map<string, CommitFacts>;
  /** Commits on the branch since the base that results.tsv does not mention. */
  unlisted: string[];
  /** Kept rows whose commit is not on the branch (the run was rewound past them). */
  keptOffBranch: string[];
}

/**
 * Read the branch history behind a results.tsv: resolve each row's commit
 * (discarded experiments are often still in the object store after
 * `git reset`), find the branch holding the kept ones (`branch`, else the
 * checked-out `autoresearch/*` branch, else the one branch containing the
 * last keep), and note what results.tsv and the branch disagree on.
 *
 * @example
 * const history = await readBranchHistory('/repo', table.rows, { branch: 'autoresearch/mar5' });
 */
export async function readBranchHistory(root: string, rows: readonly ResultRow[], options: { branch?: string } = {}): Promise<BranchHistory> {
  const commits = new Map<string, CommitFacts>();
  for (const row of rows) {
    if (commits.has(row.commit)) continue;
    const facts = await commitFacts(root, row.commit);
    if (facts) commits.set(row.commit, facts);
  }
  const missingKeeps = rows.filter((row) => row.status === 'keep' && !commits.has(row.commit));
  if (missingKeeps.length > 0) {
    throw new ImportError(
      `kept commits not found in this repository: ${missingKeeps.map((row) => `${row.commit} (line ${row.line})`).join(', ')}; run strata import in the clone the run happened in, or fetch its branch first (git fetch <remote> <branch>)`,
      { missing: missingKeeps.map((row) => row.commit) },
    );
  }
  const kept = rows.filter((row) => row.status === 'keep').map((row) => commits.get(row.commit)!.commit);
  const branch = options.branch ?? (await findBranch(root, kept.at(-1)));
  let tip: string | null = null;
  if (branch !== null) {
    tip = await resolve(root, `refs/heads/${branch}`);
    if (tip === null) throw new ImportError(`no branch ${branch} in this repository; pass --branch with one of: ${(await branches(root)).join(', ') || '(none)'}`, { branch });
  }
  const first = rows[0]!;
  const firstFacts = commits.get(first.commit);
  const base = firstFacts ? (/baseline/i.test(first.description) ? firstFacts.commit : firstFacts.parent) : null;

  const unlisted: string[] = [];
  const keptOffBranch: string[] = [];
  if (tip !== null) {
    const listed = new Set([...commits.values()].map((facts) => facts.commit));
    const range = base === null ? [tip] : [`${base}..${tip}`];
    for (const commit of (await gitText(['rev-list', '--first-parent', ...range], root)).split('\n').filter(Boolean)) if (!listed.has(commit)) unlisted.push(commit);
    for (const commit of kept) if (!(await isAncestor(root, commit, tip))) keptOffBranch.push(commit);
  }
  return { branch, tip, base, commits, unlisted, keptOffBranch };
}

async function commitFacts(root: string, short: string): Promise<CommitFacts | undefined> {
  const commit = await resolve(root, short);
  if (commit === null) return undefined;
  // Not trimmed: a root commit has an empty parents line.
  const [header = '', ...rest] = (await git(['show', '--no-patch', '--format=%P%n%cI%n%s', commit], root)).stdout.split('\n');
  const parent = header.split(' ').filter(Boolean)[0] ?? null;
  const diff = parent === null ? '' : (await git(['diff', '--no-color', '--no-ext-diff', parent, commit], root)).stdout;
  return { commit, parent, committedAt: rest[0] ?? '', subject: rest[1] ?? '', diff };
}

async function resolve(root: string, ref: string): Promise<string | null> {
  const result = await git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], root, { allowFailure: true });
  return result.exitCode === 0 ? result.stdout.trim() : null;
}

async function isAncestor(root: string, ancestor: string, descendant: string): Promise<boolean> {
  return (await git(['merge-base', '--is-ancestor', ancestor, descendant], root, { allowFailure: true })).exitCode === 0;
}

async function branches(root: string, contains?: string): Promise<string[]> {
  const listed = await gitText(['branch', '--format=%(refname:short)', ...(contains ? ['--contains', contains] : [])], root);
  return listed.split('\n').filter(Boolean);
}

/** The checked-out autoresearch/* branch, else the single branch (preferring autoresearch/*) holding the last kept commit. */
async function findBranch(root: string, lastKept: string | undefined): Promise<string | null> {
  const current = (await git(['symbolic-ref', '--quiet', '--short', 'HEAD'], root, { allowFailure: true })).stdout.trim();
  if (current.startsWith('autoresearch/') && (lastKept === undefined || (await isAncestor(root, lastKept, 'HEAD')))) return current;
  if (lastKept === undefined) return null;
  const holding = (await branches(root, lastKept)).filter((name) => !name.startsWith('strata/') && !name.startsWith('('));
  const autoresearch = holding.filter((name) => name.startsWith('autoresearch/'));
  if (autoresearch.length === 1) return autoresearch[0]!;
  if (holding.length === 1) return holding[0]!;
  if (holding.length === 0) return null;
  throw new ImportError(`the last kept commit ${lastKept.slice(0, 7)} is on several branches (${holding.join(', ')}): pass --branch <name>`, { branches: holding });
}
