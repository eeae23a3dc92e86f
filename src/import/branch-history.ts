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
  // A fixed number of git processes whatever the number of rows (one per row took 97 s for 20,000).
  const commits = await commitFactsOf(root, [...new Set(rows.map((row) => row.commit))]);
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
    const onBranch = new Set((await gitText(['rev-list', tip], root)).split('\n'));
    for (const commit of kept) if (!onBranch.has(commit)) keptOffBranch.push(commit);
  }
  return { branch, tip, base, commits, unlisted, keptOffBranch };
}

/**
 * Facts for each commit text git can still resolve, in three git processes
 * (four with merges): `cat-file --batch-check` resolves every text (an
 * unknown or ambiguous one is left out, as a single rev-parse would), then
 * side by side `log --no-walk --stdin` reads parents, dates and subjects and
 * `diff-tree --stdin` every diff against the parent.
 */
async function commitFactsOf(root: string, texts: readonly string[]): Promise<Map<string, CommitFacts>> {
  const facts = new Map<string, CommitFacts>();
  if (texts.length === 0) return facts;
  const checked = (await git(['cat-file', '--batch-check=%(objectname) %(objecttype)'], root, { input: texts.map((text) => `${text}^{commit}\n`).join('') })).stdout.split('\n');
  const resolved = new Map<string, string>();
  texts.forEach((text, index) => {
    const [name, type] = (checked[index] ?? '').split(' ');
    if (type === 'commit' && name) resolved.set(text, name);
  });
  const unique = [...new Set(resolved.values())];
  if (unique.length === 0) return facts;

  // Headers and diffs at once. Fields NUL-separated, records RS-separated: a subject can hold anything but a newline.
  // diff-tree given a commit alone diffs it against its parent, or prints nothing for a root commit or a merge.
  const diffTree = (input: string) => git(['diff-tree', '--stdin', '-p', '-M', '--no-color', '--no-ext-diff'], root, { input });
  const [logged, diffed] = await Promise.all([
    git(['log', '--no-walk=unsorted', '--stdin', '--format=%x1e%H%x00%P%x00%cI%x00%s'], root, { input: `${unique.join('\n')}\n` }),
    diffTree(`${unique.join('\n')}\n`),
  ]);
  const header = new Map<string, { parents: string[]; committedAt: string; subject: string }>();
  for (const record of logged.stdout.split('\x1e').slice(1)) {
    const [commit = '', parents = '', committedAt = '', subject = ''] = record.replace(/\n$/, '').split('\0');
    header.set(commit, { parents: parents.split(' ').filter(Boolean), committedAt, subject });
  }
  const diffs = splitDiffs(diffed.stdout);
  // A merge (rare in an autoresearch run) is diffed against its first parent, as the branch saw it.
  const merges = unique.flatMap((commit) => {
    const parents = header.get(commit)?.parents ?? [];
    return parents.length > 1 ? [`${commit} ${parents[0]}`] : [];
  });
  if (merges.length > 0) for (const [commit, diff] of splitDiffs((await diffTree(`${merges.join('\n')}\n`)).stdout)) diffs.set(commit, diff);
  for (const [text, commit] of resolved) {
    const head = header.get(commit);
    if (!head) continue;
    const parent = head.parents[0] ?? null;
    facts.set(text, { commit, parent, committedAt: head.committedAt, subject: head.subject, diff: parent === null ? '' : (diffs.get(commit) ?? '') });
  }
  return facts;
}

/** diff-tree --stdin output: a line holding the commit's id (no patch line can look like one), then its patch; an empty diff prints nothing. */
function splitDiffs(output: string): Map<string, string> {
  const diffs = new Map<string, string>();
  let current: string | undefined;
  let lines: string[] = [];
  const flush = () => {
    if (current !== undefined) diffs.set(current, lines.length === 0 ? '' : `${lines.join('\n')}\n`);
  };
  for (const line of output.split('\n')) {
    const pair = /^([0-9a-f]{40,64})( [0-9a-f]{40,64})*$/.exec(line);
    if (pair) {
      flush();
      current = pair[1];
      lines = [];
    } else if (current !== undefined) {
      lines.push(line);
    }
  }
  if (lines.at(-1) === '') lines.pop();
  flush();
  return diffs;
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
