// Scheduling benchmark: a simulated study where each trial sleeps for its
// budget and then prints a metric from a known function, and a proposer
// that "thinks" for a fixed time before each proposal (random search behind
// a delay, standing in for an LLM). Compares the serial loop with proposals
// prepared ahead (lookahead), on 1 slot and on 4, by accelerator duty cycle
// and trials per hour against the serial ideal: one slot running trials of
// exactly the budget back to back with no gaps, 3600 / budget per hour. (The
// same ratio against the trials' measured wall time would be the duty cycle
// itself; against the budget it also charges each trial's own start-up.)
//
// On one slot it also compares the serial loop, lookahead 1 and speculation
// (the default) side by side: stale proposals (made without a result that
// changed the incumbent: run on the old best with lookahead, sent back to the
// proposer with speculation) against keeps, and the proposer calls each made.
//
// Run: npx node bench/scheduling.ts [budget_s=3] [think_s=0.6] [budgets_per_slot=20] [scenarios=all|one-slot]
// The defaults are the 300 s budget and 60 s think time scaled down 100x.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../src/core/config/parse-config.ts';
import { Ledger } from '../src/ledger/ledger.ts';
import type { Proposal, ProposalContext, Proposer } from '../src/core/proposer.ts';
import { SearchProposer } from '../src/proposers/search/search-proposer.ts';
import { runResearch } from '../src/research/run-research.ts';
import { wastedProposals } from '../src/research/speculation.ts';

const budgetS = Number(process.argv[2] ?? 3);
const thinkS = Number(process.argv[3] ?? 0.6);
const budgetsPerSlot = Number(process.argv[4] ?? 20);
const oneSlotOnly = process.argv[5] === 'one-slot';

/** Random search that takes `thinkMs` per proposal, like a model call would. */
class ThinkingProposer implements Proposer {
  readonly name = 'thinking-search';
  private readonly inner = new SearchProposer({ sampler: 'random' });
  private readonly thinkMs: number;
  calls = 0;
  constructor(thinkMs: number) {
    this.thinkMs = thinkMs;
  }
  async propose(context: ProposalContext): Promise<Proposal> {
    this.calls++;
    await new Promise((resolve) => setTimeout(resolve, this.thinkMs));
    return this.inner.propose(context);
  }
}

interface Scenario {
  name: string;
  slots: number;
  lookahead: number;
  concurrentProposals: number;
  speculate: boolean;
}

// concurrent_proposals: 4 is the default for the agent and command proposers on 4 slots (one model call per slot may be in flight).
const scenarios: Scenario[] = [
  { name: 'serial (1 slot, speculate: false)', slots: 1, lookahead: 0, concurrentProposals: 1, speculate: false },
  { name: 'pipelined, 1 slot (lookahead 1, speculate: false)', slots: 1, lookahead: 1, concurrentProposals: 1, speculate: false },
  { name: 'speculative, 1 slot (the default for agent and command)', slots: 1, lookahead: 0, concurrentProposals: 1, speculate: true },
  ...(oneSlotOnly
    ? []
    : [
        { name: '4 slots, no lookahead, 1 proposal at a time', slots: 4, lookahead: 0, concurrentProposals: 1, speculate: false },
        { name: 'pipelined, 4 slots, 1 proposal at a time', slots: 4, lookahead: 1, concurrentProposals: 1, speculate: false },
        { name: 'pipelined, 4 slots (defaults: lookahead 1, 4 proposals at once)', slots: 4, lookahead: 1, concurrentProposals: 4, speculate: false },
      ]),
];

// The trainer: sleep for the budget, then a known function of the parameters (minimum 0 at x=0.3, y=-0.2).
const trainer = `sleep "$STRATA_BUDGET_S"
awk -v x="\${STRATA_PARAM_X:-0.9}" -v y="\${STRATA_PARAM_Y:-0.9}" 'BEGIN { printf "METRIC loss=%.6f\\n", (x - 0.3) ^ 2 + (y + 0.2) ^ 2 }'
`;

const idealPerHour = 3600 / budgetS;
const rows: string[] = [];
for (const scenario of scenarios) {
  const dir = mkdtempSync(join(tmpdir(), 'strata-bench-sched-'));
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8' });
  git('init', '-q', '-b', 'main');
  const trials = scenario.slots * budgetsPerSlot;
  const yaml = `name: sched
research:
  editable: [train.sh]
  run: sh train.sh
  budget: ${budgetS}s
  metric: {name: loss, goal: minimize}
  params: {x: {type: float, low: -1, high: 1}, y: {type: float, low: -1, high: 1}}
  search: {sampler: random, seed: 1}
  max_trials: ${trials}
  acceptance: {rule: strict, recheck_every: 0}
  executor: {slots: ${scenario.slots}, lookahead: ${scenario.lookahead}, concurrent_proposals: ${scenario.concurrentProposals}, speculate: ${scenario.speculate}}
`;
  writeFileSync(join(dir, 'train.sh'), trainer);
  writeFileSync(join(dir, 'strata.yaml'), yaml);
  git('add', '-A');
  git('-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '-q', '-m', 'init');

  const proposer = new ThinkingProposer(thinkS * 1000);
  const summary = await runResearch({ configPath: join(dir, 'strata.yaml'), config: parseConfig(yaml), proposer });
  const { duty_cycle: duty, capacity_slot_s: capacity } = summary.scheduling;
  const wallS = capacity / scenario.slots;
  const ran = summary.trials.filter((trial) => trial.duration_s !== null).length;
  const perHour = (ran / wallS) * 3600;
  const meanTrialS = summary.scheduling.busy_slot_s / ran;
  const ratio = perHour / (scenario.slots * idealPerHour);
  const steady = steadyDuty(join(dir, '.strata', 'ledger.db'), scenario.slots);
  const stale = staleness(join(dir, '.strata', 'ledger.db'));
  rows.push(
    `| ${scenario.name} | ${ran} | ${wallS.toFixed(1)} | ${meanTrialS.toFixed(2)} | ${(duty! * 100).toFixed(1)}% | ${(steady * 100).toFixed(1)}% | ${perHour.toFixed(0)} | ${ratio.toFixed(3)} | ${stale.keeps} | ${stale.ranStale} | ${stale.revised} | ${proposer.calls} (${(proposer.calls / ran).toFixed(2)}/trial) |`,
  );
  console.error(`${scenario.name}: ${ran} trials in ${wallS.toFixed(1)} s (mean trial ${meanTrialS.toFixed(2)} s), duty cycle ${(duty! * 100).toFixed(1)}%, ${perHour.toFixed(0)} trials/h (${ratio.toFixed(3)} of slots × serial ideal)`);
}

console.log(`budget ${budgetS} s, think ${thinkS} s per proposal, ${budgetsPerSlot} budgets per slot\n`);
console.log(
  `| scenario | trials | wall s | mean trial s | duty cycle | steady-state duty | trials/h | ÷ (slots × serial ideal ${idealPerHour.toFixed(0)}/h) | keeps | stale, run on an old best | stale, sent back to the proposer | proposer calls |`,
);
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const row of rows) console.log(row);

/**
 * Duty cycle between the moment the last slot started its first trial and the
 * moment the first slot ran out of work: the study without its ramp-up (the
 * proposer's first proposals) and its drain (a fixed max_trials ends slots at
 * different times), which a long study amortizes.
 */
function steadyDuty(ledgerPath: string, slots: number): number {
  const ledger = Ledger.open(ledgerPath);
  const runs = ledger
    .trials(1)
    .filter((trial) => trial.startedAt !== null && trial.wallMs !== null)
    .map((trial) => ({ slot: trial.slot ?? 'slot-0', start: Date.parse(trial.startedAt!), end: Date.parse(trial.startedAt!) + trial.wallMs! }));
  ledger.close();
  const bySlot = new Map<string, { start: number; end: number }[]>();
  for (const run of runs) bySlot.set(run.slot, [...(bySlot.get(run.slot) ?? []), run]);
  const from = Math.max(...[...bySlot.values()].map((list) => Math.min(...list.map((run) => run.start))));
  const to = Math.min(...[...bySlot.values()].map((list) => Math.max(...list.map((run) => run.end))));
  const busy = runs.reduce((sum, run) => sum + Math.max(0, Math.min(run.end, to) - Math.max(run.start, from)), 0);
  return busy / ((to - from) * slots);
}

/**
 * Keeps (the baseline aside), proposals that ran on a best a keep had already
 * replaced when they started (lookahead's cost: made one result behind), and
 * speculative proposals sent back to the proposer after a keep (speculation's
 * cost: one more proposer call each).
 */
function staleness(ledgerPath: string): { keeps: number; ranStale: number; revised: number } {
  const ledger = Ledger.open(ledgerPath);
  const all = ledger.trials(1);
  ledger.close();
  const keeps = all.filter((trial) => trial.status === 'keep' && trial.endedAt !== null).sort((a, b) => Date.parse(a.endedAt!) - Date.parse(b.endedAt!));
  const bestAt = (at: number) => keeps.filter((trial) => Date.parse(trial.endedAt!) <= at).at(-1)?.keptCommit;
  const ranStale = all.filter(
    (trial) => trial.role === 'candidate' && trial.startedAt !== null && trial.meta?.rebasedFrom === undefined && trial.parentCommit !== bestAt(Date.parse(trial.startedAt)),
  ).length;
  const revised = all.reduce((sum, trial) => sum + wastedProposals(trial), 0);
  return { keeps: keeps.filter((trial) => trial.role !== 'baseline').length, ranStale, revised };
}
