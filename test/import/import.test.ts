import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ImportError } from '../../src/import/import-error.ts';
import { parseResultsTsv } from '../../src/import/results-tsv.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { checkLedger } from '../../src/ledger/ledger-check.ts';
import { gitIn, makeRepo } from '../helpers/study-repo.ts';

const BIN = resolve(import.meta.dirname, '../../bin/strata.js');
const strata = (cwd: string, ...args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 });

/**
 * A night of autoresearch replayed with git: the baseline on the branch's
 * first commit, then experiments committed on autoresearch/mar5, each kept
 * (the branch advances) or discarded/crashed (git reset --hard HEAD~1, the
 * commit left unreachable), and results.tsv written as program.md asks.
 */
function autoresearchNight(): { repo: string; tsv: string[]; commits: Record<string, string> } {
  const repo = makeRepo({ 'train.py': 'LR = 0.04\nDEPTH = 8\n', 'prepare.py': 'TIME_BUDGET = 300\n', 'program.md': '# autoresearch\n' });
  gitIn(repo, 'checkout', '-q', '-b', 'autoresearch/mar5');
  const short = (ref = 'HEAD') => gitIn(repo, 'rev-parse', '--short=7', ref);
  const commits: Record<string, string> = { baseline: short() };
  const experiment = (key: string, body: string, outcome: 'keep' | 'reset') => {
    writeFileSync(join(repo, 'train.py'), body);
    gitIn(repo, 'commit', '-q', '-am', key);
    commits[key] = short();
    if (outcome === 'reset') gitIn(repo, 'reset', '-q', '--hard', 'HEAD~1');
  };
  experiment('lr', 'LR = 0.06\nDEPTH = 8\n', 'keep');
  experiment('gelu', 'LR = 0.06\nDEPTH = 8\nACT = "gelu"\n', 'reset');
  experiment('wide', 'LR = 0.06\nDEPTH = 16\n', 'reset');
  experiment('warmup', 'LR = 0.06\nDEPTH = 8\nWARMUP = 0.05\n', 'keep');
  const tsv = [
    'commit\tval_bpb\tmemory_gb\tstatus\tdescription',
    `${commits.baseline}\t0.997900\t44.0\tkeep\tbaseline`,
    `${commits.lr}\t0.993200\t44.2\tkeep\tincrease LR to 0.06`,
    `${commits.gelu}\t1.005000\t44.0\tdiscard\tswitch to GeLU activation`,
    `${commits.wide}\t0.000000\t0.0\tcrash\tdouble model depth (OOM)`,
    `deadbee\t0.995100\t44.1\tdiscard\tan experiment whose commit was garbage-collected`,
    `${commits.warmup}\t0.990100\t44.3\tkeep\tadd 5% warmup`,
  ];
  writeFileSync(join(repo, 'results.tsv'), `${tsv.join('\n')}\n`);
  return { repo, tsv, commits };
}

describe('strata import results.tsv', () => {
  it('brings a night into the ledger as a done study: keeps on the branch, diffs of reset commits, crashes without a metric', () => {
    const { repo, commits } = autoresearchNight();
    const run = strata(repo, 'import', 'results.tsv');
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('imported 6 experiments from results.tsv as study "autoresearch-mar5" (branch autoresearch/mar5)');
    expect(run.stdout).toContain('3 keep, 2 discard, 1 crash; minimize val_bpb, best 0.990100 at #5 (baseline 0.997900)');
    expect(run.stdout).toContain('1 commit is no longer in git');

    const ledger = Ledger.open(join(repo, '.strata', 'ledger.db'));
    try {
      const study = ledger.studyByName('autoresearch-mar5')!;
      expect(study).toMatchObject({ kind: 'research', state: 'done', branch: 'autoresearch/mar5', baseCommit: gitIn(repo, 'rev-parse', 'main') });
      const trials = ledger.trials(study.id);
      expect(trials.map((trial) => [trial.seq, trial.role, trial.status, trial.metric])).toEqual([
        [0, 'baseline', 'keep', 0.9979],
        [1, 'candidate', 'keep', 0.9932],
        [2, 'candidate', 'discard', 1.005],
        [3, 'candidate', 'crash', null],
        [4, 'candidate', 'discard', 0.9951],
        [5, 'candidate', 'keep', 0.9901],
      ]);
      expect(trials[5]!.keptCommit).toBe(gitIn(repo, 'rev-parse', 'autoresearch/mar5'));
      expect(study.bestTrialId).toBe(trials[5]!.id);
      // A discarded commit that git reset left unreachable still has its diff, against the branch tip it started from.
      expect(trials[2]!.diff).toContain('+ACT = "gelu"');
      expect(trials[2]!.parentCommit).toBe(gitIn(repo, 'rev-parse', commits.lr!));
      expect(trials[2]!.bestBefore).toBe(0.9932);
      expect(trials[4]).toMatchObject({ candidateCommit: null, diff: '', statusReason: 'imported from results.tsv line 6; commit deadbee is no longer in the repository' });
      expect(trials[1]!.metrics).toEqual({ val_bpb: 0.9932, memory_gb: 44.2 });
      expect(trials[3]!.metrics).toEqual({ memory_gb: 0 });
      // Rebuilt from its events alone, the ledger is the same.
      expect(checkLedger(ledger).differences).toEqual([]);
    } finally {
      ledger.close();
    }
  });

  it('round-trips: strata export --format tsv gives back the columns of results.tsv', () => {
    const { repo, tsv } = autoresearchNight();
    expect(strata(repo, 'import', 'results.tsv').status).toBe(0);
    const exported = strata(repo, 'export', '--study', 'autoresearch-mar5', '--format', 'tsv');
    expect(exported.status, exported.stderr).toBe(0);
    const firstFive = exported.stdout.trim().split('\n').map((line) => line.split('\t').slice(0, 5).join('\t'));
    // The one commit git no longer has exports without a hash: there is no commit to name.
    expect(firstFive).toEqual(tsv.map((line) => (line.startsWith('deadbee') ? line.replace('deadbee', '') : line)));

    const status = JSON.parse(strata(repo, 'status', '--study', 'autoresearch-mar5', '--json').stdout);
    expect(status.study).toMatchObject({ state: 'done', metric: 'val_bpb', goal: 'minimize' });
    expect(status.best).toMatchObject({ trial: 5, metric: 0.9901 });
    expect(status.improvement).toBeCloseTo(0.0078, 10);
  });

  it('refuses a second import under the same name, and takes --name, --branch and --goal', () => {
    const { repo } = autoresearchNight();
    gitIn(repo, 'checkout', '-q', 'main');
    expect(strata(repo, 'import', 'results.tsv').status).toBe(0);
    const again = strata(repo, 'import', 'results.tsv');
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('already has a study named "autoresearch-mar5": pass --name');
    const named = strata(repo, 'import', 'results.tsv', '--name', 'night-2', '--branch', 'autoresearch/mar5', '--goal', 'maximize');
    expect(named.status, named.stderr).toBe(0);
    expect(named.stdout).toContain('maximize val_bpb');
  });

  it('says which kept commits it cannot find, and imports nothing', () => {
    const repo = makeRepo({ 'train.py': 'x\n' });
    writeFileSync(join(repo, 'results.tsv'), 'commit\tval_bpb\tmemory_gb\tstatus\tdescription\nabcdef1\t1.0\t1.0\tkeep\tbaseline\n');
    const run = strata(repo, 'import', 'results.tsv');
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('kept commits not found in this repository: abcdef1 (line 2)');
  });
});

describe('parseResultsTsv', () => {
  it('reads autoresearch columns and the columns of forks', () => {
    const table = parseResultsTsv('commit\tscore\tsharpe\tval_pass\tstatus\tdescription\na1b2c3d\t0.42\t0.58\ttrue\tkeep\tbaseline\n\n');
    expect(table.metric).toBe('score');
    expect(table.rows[0]).toMatchObject({ line: 2, metric: 0.42, metrics: { sharpe: 0.58 }, cells: { val_pass: 'true' } });
    expect(parseResultsTsv('commit\tval_bpb\tstatus\tdescription\r\nabc1234\t1.2\tdiscard\ta\tb\r\n').rows[0]!.description).toBe('a b');
  });

  it('reports every problem with its line', () => {
    const text = 'commit\tval_bpb\tmemory_gb\tstatus\tdescription\nnot-a-hash\t1.0\t1\tkeep\tx\nabc1234\tn/a\t1\tdiscard\ty\nabc1235\t1\t1\tmaybe\tz\nabc1236\t1\n';
    expect(() => parseResultsTsv(text)).toThrow(ImportError);
    expect(() => parseResultsTsv(text)).toThrow(
      [
        'results.tsv has 4 problems; nothing was imported:',
        '  line 2: commit "not-a-hash" is not a git hash',
        '  line 3: val_bpb "n/a" is not a number, but the status is discard',
        '  line 4: status "maybe" is not one of keep, discard, crash, timeout, invalid, interrupted',
        '  line 5: 2 cells for 5 columns',
      ].join('\n'),
    );
    expect(() => parseResultsTsv('a,b,c\n')).toThrow(/the header has no commit, status, description column/);
    expect(() => parseResultsTsv('commit\tval_bpb\tstatus\tdescription\n')).toThrow('has a header but no experiments');
  });
});
