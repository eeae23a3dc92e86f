/**
 * What the research scheduler pays per planner turn to see the study's trials, at the size of a generated ledger:
 * a full read (`ledger.trials`, every row's JSON parsed) beside `StudyTrials.all()`, which after its first call
 * re-reads only the trials that events since then name.
 *
 *   npx node bench/large-ledger.ts /tmp/large20k 20000 40   # once: a study of 20,000 trials
 *   npx node bench/scheduler-read.ts /tmp/large20k
 */
import { join } from 'node:path';
import { Ledger } from '../src/ledger/ledger.ts';
import { NO_RUN, StudyTrials } from '../src/study/study-trials.ts';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: npx node bench/scheduler-read.ts <folder of a generated study> (see bench/large-ledger.ts)');
  process.exit(2);
}
const ledger = Ledger.open(join(dir, '.strata', 'ledger.db'));
const study = ledger.studies()[0]!;
const trials = new StudyTrials(ledger, study.id);
const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const time = (fn: () => unknown): number => {
  const started = performance.now();
  fn();
  return performance.now() - started;
};
const full = median(Array.from({ length: 5 }, () => time(() => ledger.trials(study.id))));
trials.all();
const unchanged = median(Array.from({ length: 5 }, () => time(() => trials.all())));
// One trial written between turns (the common case).
const changed: number[] = [];
for (let index = 0; index < 5; index++) {
  const queued = trials.queue({ role: 'candidate', proposer: 'bench', description: 'bench', parentCommit: null, budgetMs: 1000 });
  changed.push(time(() => trials.all()));
  trials.finish(queued, 'interrupted', 'not-started', 'bench row', NO_RUN);
}
console.log(`${trials.all().length} trials: full read ${full.toFixed(1)} ms; StudyTrials.all() unchanged ${unchanged.toFixed(2)} ms, after one new trial ${median(changed).toFixed(2)} ms (median of 5 each)`);
ledger.close();
