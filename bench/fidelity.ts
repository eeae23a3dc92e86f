// Multi-fidelity promotion on the bundled example (examples/tiny-lm): the
// same candidates (one fixed list of random parameter sets) run once at the full budget
// each, and once screened at a short budget with the best quarter promoted
// to the full budget. Reports full-budget runs, wall time and the best
// validation bits per byte of each arm. One slot: training is CPU-bound, and
// a side-by-side comparison must not let the arms share cores.
//
// Run: npx node bench/fidelity.ts [candidates=16] [budget_s=10] [screen_s=3] [promote_top=0.25]
// (The example's own budget is 20 s; the default here halves it to keep the run short.)
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseConfig } from '../src/core/config/parse-config.ts';
import type { Proposal, ProposalContext, Proposer } from '../src/core/proposer.ts';
import { Random } from '../src/core/random.ts';
import { drawRandomParams } from '../src/proposers/search/random-draw.ts';
import { PARAMS_FILE } from '../src/proposers/search/search-proposer.ts';
import { runResearch } from '../src/research/run-research.ts';

const candidates = Number(process.argv[2] ?? 16);
const budgetS = Number(process.argv[3] ?? 10);
const screenS = Number(process.argv[4] ?? 3);
const promoteTop = Number(process.argv[5] ?? 0.25);
const example = resolve(import.meta.dirname, '../examples/tiny-lm');

function studyYaml(fidelity: boolean, maxTrials: number): string {
  return `name: fidelity-${fidelity ? 'on' : 'off'}
research:
  editable: ["train.ts"]
  protected: ["prepare.ts", "data/**"]
  run: "node train.ts"
  budget: ${budgetS}s
  metric: {name: val_bpb, goal: minimize, pattern: '^val_bpb:\\s*(\\S+)'}
  params:
    lr: {type: float, low: 0.0003, high: 0.3, log: true}
    hidden: {type: int, low: 16, high: 256}
    context: {type: int, low: 1, high: 12}
    embed: {type: int, low: 4, high: 24}
    init_scale: {type: float, low: 0.1, high: 10, log: true}
    batch: {type: int, low: 8, high: 128, log: true}
  search: {sampler: random, seed: 11}
  max_trials: ${maxTrials}
  acceptance: {rule: strict, recheck_every: 0}
${fidelity ? `  fidelity: {screen_budget: ${screenS}s, promote_top: ${promoteTop}}\n` : ''}`;
}

/** Proposes the same parameter sets, in the same order, in both arms (the search proposer's draws depend on trial numbers, which promotions shift). */
class ListProposer implements Proposer {
  readonly name = 'fixed-random-list';
  private next = 0;
  async propose(context: ProposalContext): Promise<Proposal> {
    const rng = Random.fromSeed(`fidelity-bench:${this.next++}`);
    const params = drawRandomParams(context.config.params, rng);
    writeFileSync(join(context.projectDir, PARAMS_FILE), `${JSON.stringify(params, null, 2)}\n`);
    return { description: `candidate ${this.next}`, params };
  }
}

async function arm(fidelity: boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'strata-bench-fidelity-'));
  cpSync(example, dir, { recursive: true });
  // Promotion adds floor(n × promote_top) full runs for n screens: room for all of them.
  const maxTrials = fidelity ? 1 + candidates + Math.floor(candidates * promoteTop) : 1 + candidates;
  const yaml = studyYaml(fidelity, maxTrials);
  writeFileSync(join(dir, 'strata.yaml'), yaml);
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8' });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '-q', '-m', 'tiny-lm');
  const started = performance.now();
  const summary = await runResearch({ configPath: join(dir, 'strata.yaml'), config: parseConfig(yaml), proposer: new ListProposer() });
  const wallS = (performance.now() - started) / 1000;
  const ran = summary.trials.filter((trial) => trial.duration_s !== null);
  const screens = ran.filter((trial) => trial.role === 'screen').length;
  const full = ran.filter((trial) => trial.role !== 'screen').length;
  return { fidelity, screens, full, wallS, best: summary.best?.metric ?? null, baseline: summary.baseline?.metric ?? null };
}

const off = await arm(false);
console.error(`full budget only: ${off.full} full runs, best ${off.best}, ${off.wallS.toFixed(0)} s`);
const on = await arm(true);
console.error(`screen + promote: ${on.screens} screens + ${on.full} full runs, best ${on.best}, ${on.wallS.toFixed(0)} s`);

console.log(`tiny-lm, the same ${candidates} random candidates in both arms, full budget ${budgetS} s, screens ${screenS} s, promote_top ${promoteTop}, 1 slot\n`);
console.log('| arm | screening runs | full-budget runs (incl. baseline) | wall s | best val_bpb | baseline val_bpb |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const result of [off, on]) {
  console.log(`| ${result.fidelity ? `screen ${screenS}s, promote top ${promoteTop}` : 'full budget for every candidate'} | ${result.screens} | ${result.full} | ${result.wallS.toFixed(0)} | ${result.best?.toFixed(4) ?? '-'} | ${result.baseline?.toFixed(4) ?? '-'} |`);
}
