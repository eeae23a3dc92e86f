/**
 * How often acceptance rules keep changes that do nothing, and changes that
 * truly help, on a synthetic metric with known noise (sd σ = 1 per run):
 * today's noise-aware rule side by side with the one before it (issue 18),
 * strict and threshold, in one run.
 *
 *   npx node bench/noise.ts                    # the reported tables (seed 1, 20000 decisions per cell)
 *   npx node bench/noise.ts --decisions 2000   # quicker, noisier
 *   npx node bench/noise.ts --seed 7           # another stream
 *
 * The defaults were tuned on other streams (seeds named tune-*), never on the reported one.
 * See bench/README-noise.md for the figures and what they mean.
 */
import { parseArgs } from 'node:util';
import type { Acceptance } from '../src/core/acceptance.ts';
import { NOISE_AWARE_DEFAULTS, noiseAwareAcceptance } from '../src/acceptance/noise-aware-acceptance.ts';
import { strictAcceptance } from '../src/acceptance/strict-acceptance.ts';
import { thresholdAcceptance } from '../src/acceptance/threshold-acceptance.ts';
import { PREVIOUS_NOISE_AWARE_DEFAULTS, previousNoiseAwareAcceptance } from './noise-previous-rule.ts';
import { simulateAcceptance } from './noise-simulation.ts';

const { values } = parseArgs({ options: { decisions: { type: 'string', default: '20000' }, seed: { type: 'string', default: '1' } } });
const decisions = Number(values.decisions);
const seed = Number(values.seed);

const rules: { label: string; acceptance: Acceptance }[] = [
  { label: 'strict (one run each)', acceptance: strictAcceptance },
  { label: 'threshold, min_delta 1σ', acceptance: thresholdAcceptance(1) },
  {
    label: `before: noise-aware as it was (baseline_repeats ${PREVIOUS_NOISE_AWARE_DEFAULTS.baselineRepeats} first, confirm_repeats ${PREVIOUS_NOISE_AWARE_DEFAULTS.confirmRepeats}, Haybittle–Peto)`,
    acceptance: previousNoiseAwareAcceptance(),
  },
  {
    label: `after: noise-aware, defaults (baseline_repeats ${NOISE_AWARE_DEFAULTS.baselineRepeats}, runs on demand, confirm_repeats ${NOISE_AWARE_DEFAULTS.confirmRepeats}, incumbent runs ${NOISE_AWARE_DEFAULTS.incumbentRuns})`,
    acceptance: noiseAwareAcceptance(),
  },
];

const percent = (value: number) => `${(value * 100).toFixed(1)}%`;
const started = performance.now();

const perStudy = 20;
console.log(`Over a whole study: ${perStudy} candidates in a row, each a +2σ improvement over the incumbent with probability 0.2, else a no-op (seed ${seed}, ${decisions} decisions)\n`);
console.log('| rule | no-op kept | +2σ kept | runs per decision (all, baseline included) | baseline runs per study |');
console.log('| --- | --- | --- | --- | --- |');
for (const { label, acceptance } of rules) {
  const result = simulateAcceptance({ acceptance, trueImprovement: 2, improvingFraction: 0.2, decisionsPerStudy: perStudy, studies: Math.ceil(decisions / perStudy), seed: `${seed}:study` });
  console.log(`| ${label} | ${percent(result.noOpKeepRate)} | ${percent(result.improvingKeepRate)} | ${result.allRunsPerDecision.toFixed(2)} | ${result.baselineRunsInAll.toFixed(1)} |`);
}

console.log(`\nFirst decision of a study: candidates judged against the baseline (seed ${seed}, ${decisions} decisions per cell)\n`);
console.log('| rule | no-op kept | +1σ kept | +2σ kept | +3σ kept | runs per no-op | runs per +2σ | baseline runs before the first candidate |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const { label, acceptance } of rules) {
  const cell = (improvement: number) => simulateAcceptance({ acceptance, trueImprovement: improvement, decisionsPerStudy: 1, studies: decisions, seed: `${seed}:${improvement}` });
  const [noOp, one, two, three] = [0, 1, 2, 3].map(cell) as [ReturnType<typeof cell>, ReturnType<typeof cell>, ReturnType<typeof cell>, ReturnType<typeof cell>];
  console.log(
    `| ${label} | ${percent(noOp.keepRate)} | ${percent(one.keepRate)} | ${percent(two.keepRate)} | ${percent(three.keepRate)} | ${noOp.allRunsPerDecision.toFixed(2)} | ${two.allRunsPerDecision.toFixed(2)} | ${noOp.baselineRuns} |`,
  );
}
console.log(`\n(runs per no-op and per +2σ count every run of the decision's study, the baseline's included; ${((performance.now() - started) / 1000).toFixed(1)} s)`);
