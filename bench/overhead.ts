// Orchestration overhead per trial: a study of no-op trials (the trainer is
// one `echo`), timed from the ledger. Overhead = time between the end of one
// trial's process and the end of the next, minus that process's own wall time
// — worktree, proposal, commit, ledger, metric parse, cleanup.
// Run: npx node bench/overhead.ts [trials=40]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../src/core/config/parse-config.ts';
import { Ledger } from '../src/ledger/ledger.ts';
import { runResearch } from '../src/research/run-research.ts';

const trials = Number(process.argv[2] ?? 40);
const dir = mkdtempSync(join(tmpdir(), 'strata-bench-'));
const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8' });
git('init', '-q', '-b', 'main');
writeFileSync(join(dir, 'train.sh'), 'echo "METRIC loss=${STRATA_PARAM_X:-0.5}"\n');
const yaml = `name: overhead
research:
  editable: [train.sh]
  run: sh train.sh
  budget: 30s
  metric: {name: loss, goal: minimize}
  params: {x: {type: float, low: 0, high: 1}}
  search: {sampler: random, seed: 1}
  max_trials: ${trials}
`;
writeFileSync(join(dir, 'strata.yaml'), yaml);
git('add', '-A');
git('-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '-q', '-m', 'init');

const started = performance.now();
await runResearch({ configPath: join(dir, 'strata.yaml'), config: parseConfig(yaml) });
const totalMs = performance.now() - started;

const ledger = Ledger.open(join(dir, ".strata", "ledger.db"));
if (process.env.BENCH_EVENTS) for (const e of ledger.events(1)) console.log(e.createdAt.slice(17), e.type, e.trialId ?? "");
const rows = ledger.trials(1);
ledger.close();
const overheads: number[] = [];
for (let i = 1; i < rows.length; i++) {
  const gap = Date.parse(rows[i]!.endedAt!) - Date.parse(rows[i - 1]!.endedAt!);
  overheads.push(gap - (rows[i]!.wallMs ?? 0));
}
const processMs = rows.map((row) => row.wallMs ?? 0);
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

// Baseline: the same trial command spawned bare, with no orchestration at all.
const bare: number[] = [];
for (let i = 0; i < 20; i++) {
  const t = performance.now();
  spawnSync('sh', ['train.sh'], { cwd: dir, env: { STRATA_PARAM_X: '0.5' } });
  bare.push(performance.now() - t);
}
// Floor: the git work a trial cannot avoid (worktree add + commit + remove), as plain git commands.
const floor: number[] = [];
for (let i = 0; i < 10; i++) {
  const t = performance.now();
  const wt = join(dir, '.strata', `floor-${i}`);
  git("worktree", "add", "--quiet", "--detach", "--force", wt, "HEAD");
  writeFileSync(join(wt, 'strata.params.json'), `{"x": ${i}}\n`);
  execFileSync('git', ['add', '-A'], { cwd: wt });
  execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '-q', '-m', 'x'], { cwd: wt });
  git('worktree', 'remove', '--force', wt);
  floor.push(performance.now() - t);
}

const fmt = (ms: number) => `${ms.toFixed(1)} ms`;
console.log(`trials: ${rows.length} in ${(totalMs / 1000).toFixed(2)} s`);
console.log(`median orchestration overhead per trial: ${fmt(median(overheads))} (p90 ${fmt([...overheads].sort((a, b) => a - b)[Math.floor(overheads.length * 0.9)]!)})`);
console.log(`median trial process wall time:          ${fmt(median(processMs))}`);
console.log(`bare spawn of the same command:           ${fmt(median(bare))}`);
console.log(`git floor (worktree add + commit + remove): ${fmt(median(floor))}`);
console.log(`overhead / git floor: ${(median(overheads) / median(floor)).toFixed(2)}x`);
