// `strata import` of a large autoresearch night: N experiments on autoresearch/bench, one kept in
// every `keepEvery` (the branch advances), the rest committed then reset as autoresearch does (the
// commit stays in the object store), a few garbage-collected, written to results.tsv.
// Side by side on the same repository: the commit lookups as they were before batching (three git
// processes per commit: rev-parse, show, diff) against readBranchHistory now (a fixed handful),
// and the whole `strata import` command end to end.
// Run: npx node bench/import.ts [rows=20000] [keepEvery=20] [baselineRows=rows]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { readBranchHistory, type CommitFacts } from '../src/import/branch-history.ts';
import { parseResultsTsv } from '../src/import/results-tsv.ts';
import { git } from '../src/workspace/git.ts';

const rows = Number(process.argv[2] ?? 20_000);
const keepEvery = Number(process.argv[3] ?? 20);
const baselineRows = Number(process.argv[4] ?? rows);
const repo = mkdtempSync(join(tmpdir(), 'strata-import-bench-'));
const run = (...args: string[]) => execFileSync('git', args, { cwd: repo, encoding: 'utf8', maxBuffer: 1 << 30 });
run('init', '-q', '-b', 'main');

// The night's history in one `git fast-import`: kept experiments on the branch, discarded ones on a
// scratch ref each starts from the tip (deleted afterwards, as `git reset --hard HEAD~1` leaves them).
const stream: string[] = [];
const at = (index: number) => 1_700_000_000 + index;
const commit = (ref: string, mark: number, from: number | null, body: string, message: string, index: number) => {
  stream.push(`commit ${ref}`, `mark :${mark}`, `committer r <r@r> ${at(index)} +0000`, `data ${Buffer.byteLength(message)}`, message);
  if (from !== null) stream.push(`from :${from}`);
  stream.push('M 100644 inline train.py', `data ${Buffer.byteLength(body)}`, body, '');
};
const train = (lr: number, depth: number) => `LR = ${lr}\nDEPTH = ${depth}\nfor step in range(10):\n    pass\n`;
commit('refs/heads/autoresearch/bench', 1, null, train(0.04, 8), 'baseline', 0);
let tip = 1;
const plan: { mark: number; status: 'keep' | 'discard' | 'crash'; metric: number; description: string; gone: boolean }[] = [
  { mark: 1, status: 'keep', metric: 1, description: 'baseline', gone: false },
];
let best = 1;
for (let index = 1; index < rows; index++) {
  const mark = index + 1;
  const keep = index % keepEvery === 0;
  const crash = !keep && index % 97 === 0;
  const description = `experiment ${index}: lr ${(0.04 + index * 1e-6).toFixed(6)}`;
  if (keep) {
    commit('refs/heads/autoresearch/bench', mark, tip, train(0.04 + index * 1e-6, 8), description, index);
    tip = mark;
    best -= 1e-5;
  } else {
    commit('refs/scratch', mark, tip, train(0.04 + index * 1e-6, 8 + (index % 7)), description, index);
  }
  plan.push({ mark, status: keep ? 'keep' : crash ? 'crash' : 'discard', metric: keep ? best : best + 0.001, description, gone: !keep && index % 501 === 0 });
}
const marksFile = join(repo, '.git', 'marks');
const started = performance.now();
execFileSync('git', ['fast-import', '--quiet', `--export-marks=${marksFile}`], { cwd: repo, input: `${stream.join('\n')}\n`, maxBuffer: 1 << 30 });
run('update-ref', '-d', 'refs/scratch');
run('checkout', '-q', 'autoresearch/bench');
const marks = new Map(
  execFileSync('cat', [marksFile], { encoding: 'utf8', maxBuffer: 1 << 30 })
    .trim()
    .split('\n')
    .map((line) => {
      const [mark, sha] = line.split(' ');
      return [Number(mark!.slice(1)), sha!] as const;
    }),
);
const tsv = ['commit\tval_bpb\tmemory_gb\tstatus\tdescription'];
for (const row of plan) {
  // A few commits git no longer has: an id that names nothing.
  const short = row.gone ? `dead${String(row.mark % 1000).padStart(3, '0')}` : marks.get(row.mark)!.slice(0, 7);
  tsv.push(`${short}\t${row.status === 'crash' ? '0.000000' : row.metric.toFixed(6)}\t44.0\t${row.status}\t${row.description}`);
}
writeFileSync(join(repo, 'results.tsv'), `${tsv.join('\n')}\n`);
console.log(`repository: ${rows} experiments (${plan.filter((row) => row.status === 'keep').length} kept) built in ${((performance.now() - started) / 1000).toFixed(1)} s at ${repo}`);

const table = parseResultsTsv(`${tsv.join('\n')}\n`);

// Before: one lookup per commit, three git processes each (what readBranchHistory did until this change).
async function perCommit(texts: readonly string[]): Promise<Map<string, CommitFacts>> {
  const facts = new Map<string, CommitFacts>();
  for (const text of texts) {
    const resolved = await git(['rev-parse', '--verify', '--quiet', `${text}^{commit}`], repo, { allowFailure: true });
    if (resolved.exitCode !== 0) continue;
    const commit = resolved.stdout.trim();
    const [header = '', ...rest] = (await git(['show', '--no-patch', '--format=%P%n%cI%n%s', commit], repo)).stdout.split('\n');
    const parent = header.split(' ').filter(Boolean)[0] ?? null;
    const diff = parent === null ? '' : (await git(['diff', '--no-color', '--no-ext-diff', parent, commit], repo)).stdout;
    facts.set(text, { commit, parent, committedAt: rest[0] ?? '', subject: rest[1] ?? '', diff });
  }
  return facts;
}

const texts = [...new Set(table.rows.map((row) => row.commit))];
let t = performance.now();
const history = await readBranchHistory(repo, table.rows);
const batchedMs = performance.now() - t;
const sample = texts.slice(0, baselineRows);
t = performance.now();
const before = await perCommit(sample);
const perCommitMs = performance.now() - t;
// Same facts either way (the check that makes the ratio mean something).
const differing = sample.filter((text) => !isDeepStrictEqual(before.get(text), history.commits.get(text)));
if (differing.length > 0) throw new Error(`batched facts differ from per-commit facts for ${differing.length} commits, e.g. ${differing[0]}`);

const bin = resolve(import.meta.dirname, '../bin/strata.js');
t = performance.now();
const imported = spawnSync(process.execPath, [bin, 'import', 'results.tsv'], { cwd: repo, encoding: 'utf8' });
const commandMs = performance.now() - t;
if (imported.status !== 0) throw new Error(`strata import failed: ${imported.stderr}`);

const scaled = (perCommitMs * texts.length) / sample.length;
console.log(`commit lookups for ${sample.length} rows, per commit (before): ${(perCommitMs / 1000).toFixed(2)} s${sample.length < texts.length ? ` (${(scaled / 1000).toFixed(1)} s scaled to ${texts.length})` : ''}`);
console.log(`commit lookups for ${texts.length} rows, batched (now):     ${(batchedMs / 1000).toFixed(2)} s  → ${(scaled / batchedMs).toFixed(0)}× faster`);
console.log(`strata import results.tsv (${rows} rows), end to end:  ${(commandMs / 1000).toFixed(2)} s`);
console.log(imported.stdout.trim());
