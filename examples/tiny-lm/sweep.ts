/**
 * Measures how val_bpb responds to each setting, one run at a time, and prints
 * a Markdown table (the one in README.md came from this). Each run gets its own
 * temporary directory holding only strata.params.json, so this folder is never
 * touched. Takes about 15 s per run.
 *
 * Usage: node sweep.ts [seeds]      (seeds for the baseline, default 3)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface Run {
  label: string;
  params: Record<string, number>;
  seed: number;
}

const TRAINER = join(import.meta.dirname, 'train.ts');

const VARIATIONS: Record<string, readonly number[]> = {
  lr: [0.003, 0.03, 0.3],
  hidden: [8, 64, 192],
  context: [1, 6, 12],
  init_scale: [0.1, 3, 10],
};

/** Several settings changed together: what a search can reach. */
const COMBINED: readonly Record<string, number>[] = [
  { lr: 0.01, hidden: 64, context: 8, embed: 16 },
  { lr: 0.003, hidden: 64, context: 8, embed: 16, layers: 2 },
];

function plan(seeds: number): Run[] {
  const runs: Run[] = [];
  for (let seed = 0; seed < seeds; seed++) runs.push({ label: 'baseline (defaults)', params: {}, seed });
  for (const [key, values] of Object.entries(VARIATIONS)) {
    for (const value of values) runs.push({ label: `${key}=${value}`, params: { [key]: value }, seed: 0 });
  }
  for (const params of COMBINED) {
    const label = Object.entries(params).map(([key, value]) => `${key}=${value}`).join(' ');
    runs.push({ label, params, seed: 0 });
  }
  return runs;
}

function execute(run: Run): { bpb: string; steps: string; cpu: string; wall: string } {
  const directory = mkdtempSync(join(tmpdir(), 'tiny-lm-sweep-'));
  try {
    writeFileSync(join(directory, 'strata.params.json'), JSON.stringify(run.params));
    const result = spawnSync(process.execPath, [TRAINER], {
      cwd: directory,
      env: { ...process.env, STRATA_SEED: String(run.seed) },
      encoding: 'utf8',
    });
    if (result.status !== 0) throw new Error(`${run.label} failed (exit ${result.status}): ${result.stderr}`);
    const bpb = /^val_bpb:\s*(\S+)/m.exec(result.stdout)?.[1] ?? '?';
    const metric = (name: string) => new RegExp(`^METRIC ${name}=(\\S+)`, 'm').exec(result.stdout)?.[1] ?? '?';
    return { bpb, steps: metric('steps'), cpu: metric('train_seconds'), wall: metric('train_wall_seconds') };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

const seeds = Number(process.argv[2] ?? 3);
console.log('| setting | seed | val_bpb | steps | train CPU s | train wall s |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const run of plan(seeds)) {
  const { bpb, steps, cpu, wall } = execute(run);
  console.log(`| ${run.label} | ${run.seed} | ${bpb} | ${steps} | ${cpu} | ${wall} |`);
}
