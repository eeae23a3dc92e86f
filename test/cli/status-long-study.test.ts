import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lineage, statusLines } from '../../src/cli/status-rows.ts';
import type { TrialRow } from '../../src/research/study-summary.ts';
import { gitIn, makeRepo } from '../helpers/study-repo.ts';

const BIN = resolve(import.meta.dirname, '../../bin/strata.js');
const strata = (cwd: string, ...args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 240_000, maxBuffer: 1 << 28 });

describe('strata status on a long study', () => {
  it('shows the summary, the best lineage and the last rows of 20,000 trials; --all and --json have every trial', () => {
    // A 20,000-experiment night, imported: a keep every 1,000 rows (real commits on the branch), the rest discarded and long collected.
    const repo = makeRepo({ 'train.py': 'LR = 0\n' });
    gitIn(repo, 'checkout', '-q', '-b', 'autoresearch/long');
    const lines = ['commit\tval_bpb\tmemory_gb\tstatus\tdescription', `${gitIn(repo, 'rev-parse', 'HEAD')}\t1.000000\t1.0\tkeep\tbaseline`];
    const kept = [0];
    for (let seq = 1; seq < 20_000; seq++) {
      if (seq % 1000 === 0) {
        writeFileSync(join(repo, 'train.py'), `LR = ${seq}\n`);
        gitIn(repo, 'commit', '-q', '-am', `keep ${seq}`);
        lines.push(`${gitIn(repo, 'rev-parse', 'HEAD')}\t${(1 - seq / 1e5).toFixed(6)}\t1.0\tkeep\tkept idea ${seq}`);
        kept.push(seq);
      } else {
        const gone = createHash('sha1').update(`gone ${seq}`).digest('hex');
        lines.push(`${gone}\t${(1.5 - seq / 1e5).toFixed(6)}\t1.0\tdiscard\tidea ${seq}`);
      }
    }
    writeFileSync(join(repo, 'results.tsv'), `${lines.join('\n')}\n`);
    const imported = strata(repo, 'import', 'results.tsv');
    expect(imported.status, imported.stderr).toBe(0);

    const status = strata(repo, 'status', '--study', 'autoresearch-long');
    expect(status.status, status.stderr).toBe(0);
    const out = status.stdout;
    expect(out).toContain('best 0.810000 at trial #19000');
    const shownSeqs = [...out.matchAll(/^ *#(\d+) /gm)].map((match) => Number(match[1]));
    const last = Array.from({ length: 10 }, (_, index) => 19_990 + index);
    expect(shownSeqs).toEqual([...kept, ...last]);
    // Each gap says how many trials it stands for; together with the rows shown they are all 20,000.
    const hidden = [...out.matchAll(/^ *⋮ +(\d+) more/gm)].map((match) => Number(match[1]));
    expect(hidden).toHaveLength(20);
    expect(hidden.reduce((sum, count) => sum + count, 0) + shownSeqs.length).toBe(20_000);
    expect(out).toContain('30 of 20000 trials: the best\'s lineage and the last 10; strata status --all lists every one');
    expect(out.split('\n').length).toBeLessThan(80);

    const all = strata(repo, 'status', '--study', 'autoresearch-long', '--all');
    expect(all.status, all.stderr).toBe(0);
    expect([...all.stdout.matchAll(/^ *#(\d+) /gm)]).toHaveLength(20_000);
    expect(all.stdout).not.toContain('⋮');
    const json = JSON.parse(strata(repo, 'status', '--study', 'autoresearch-long', '--json').stdout) as { trials: unknown[] };
    expect(json.trials).toHaveLength(20_000);
  }, 300_000);
});

describe('statusLines', () => {
  const trial = (seq: number, status: TrialRow['status'], commit: string, parent: string): TrialRow =>
    ({ seq, status, commit, parent_commit: parent }) as TrialRow;

  it('follows parent commits from the best: a keep the best was not built on is not its lineage', () => {
    const trials = [
      trial(0, 'keep', 'base', 'base'),
      trial(1, 'keep', 'a', 'base'),
      trial(2, 'keep', 'side', 'base'), // kept, but the best descends from a, not from it
      trial(3, 'discard', 'x', 'a'),
      trial(4, 'keep', 'b', 'a'),
      ...Array.from({ length: 50 }, (_, index) => trial(5 + index, 'discard', `d${index}`, 'b')),
    ];
    expect(lineage(trials, 4).map((row) => row.seq)).toEqual([4, 1, 0]);
    const lines = statusLines(trials, 4, { all: false });
    expect(lines.map((line) => ('trial' in line ? `#${line.trial.seq}` : `(${line.hidden})`))).toEqual([
      '#0',
      '#1',
      '(2)',
      '#4',
      '(40)',
      ...Array.from({ length: 10 }, (_, index) => `#${45 + index}`),
    ]);
    expect(statusLines(trials, 4, { all: true })).toHaveLength(trials.length);
    expect(statusLines(trials.slice(0, 30), 4, { all: false })).toHaveLength(30);
  });

  it('shows a long lineage as its root and newest steps', () => {
    // 100 keeps in a chain, each on the last, then 5 discards: the baseline, keeps #80–#99 and the 5 last rows (#95–#99 are keeps too).
    const trials = [trial(0, 'keep', 'c0', 'c0')];
    for (let seq = 1; seq < 100; seq++) trials.push(trial(seq, 'keep', `c${seq}`, `c${seq - 1}`));
    for (let seq = 100; seq < 105; seq++) trials.push(trial(seq, 'discard', `d${seq}`, 'c99'));
    expect(lineage(trials, 99)).toHaveLength(100);
    const lines = statusLines(trials, 99, { all: false });
    expect(lines.map((line) => ('trial' in line ? line.trial.seq : -line.hidden))).toEqual([0, -79, ...Array.from({ length: 20 }, (_, index) => 80 + index), 100, 101, 102, 103, 104]);
  });

  it('is only the last rows when there is no best yet', () => {
    const trials = Array.from({ length: 45 }, (_, index) => trial(index, 'crash', `c${index}`, 'base'));
    expect(statusLines(trials, null, { all: false }).map((line) => ('trial' in line ? line.trial.seq : -line.hidden))).toEqual([-35, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44]);
  });
});
