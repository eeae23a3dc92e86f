// A generator of large research ledgers: a study of N trials written through
// the ledger's own verbs (StudyTrials: queue, start, measure, keep/finish), so
// its events replay and every reader sees a real ledger, without running N
// trials. Commits are made-up ids (nothing here reads git). One kept trial in
// `keepEvery`, a crash in every 97th, a timeout in every 211th, an invalid
// proposal in every 53rd.
//
// Used by bench/large-study.ts (timings at 20,000 trials) and by the dashboard's
// large-study Chromium test (behaviour at that size).
//
// Run alone: npx node bench/large-ledger.ts <dir> [trials=20000] [keepEvery=40]
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ledger } from '../src/ledger/ledger.ts';
import { StudyTrials, NO_RUN } from '../src/study/study-trials.ts';

/** The study's config as strata.yaml holds it (written beside the ledger, so `strata status` finds the study). */
export const LARGE_STUDY_YAML = `name: large
research:
  editable: [train.py]
  run: python train.py
  budget: 5m
  metric: {name: val_bpb, goal: minimize}
  proposer: command
  agent_command: "true"
  max_trials: 100000
`;

const fakeCommit = (text: string) => createHash('sha1').update(text).digest('hex');

/**
 * Write a research study of `trials` trials into `<dir>/.strata/ledger.db`
 * (and `<dir>/strata.yaml`). Returns the study id and how many trials were kept.
 *
 * @example
 * const { studyId } = generateLargeLedger('/tmp/large', { trials: 20_000 });
 */
export function generateLargeLedger(dir: string, options: { trials: number; keepEvery?: number; name?: string }): { studyId: number; kept: number; ledgerPath: string } {
  const keepEvery = options.keepEvery ?? 40;
  const name = options.name ?? 'large';
  mkdirSync(join(dir, '.strata'), { recursive: true });
  writeFileSync(join(dir, 'strata.yaml'), LARGE_STUDY_YAML.replace('name: large', `name: ${name}`));
  const ledgerPath = join(dir, '.strata', 'ledger.db');
  const ledger = Ledger.open(ledgerPath);
  const base = fakeCommit('base');
  const config = {
    name,
    research: { editable: ['train.py'], run: 'python train.py', budget: '5m', metric: { name: 'val_bpb', goal: 'minimize' }, proposer: 'command', agent_command: 'true', max_trials: 100000 },
  };
  const studyId = ledger.transaction(() => {
    const id = ledger.nextId('studies');
    ledger.record('study.created', { studyId: id, name, kind: 'research', config, configHash: 'large', branch: `strata/${name}`, baseCommit: base }, { studyId: id });
    ledger.record('study.session_started', { studyId: id, slots: 1, executor: 'local', lookahead: 0 }, { studyId: id });
    return id;
  });
  const trials = new StudyTrials(ledger, studyId);
  let best = { commit: base, metric: 1.0 };
  let kept = 0;
  const run = (metric: number, wallMs: number) => ({ ...NO_RUN, metrics: { val_bpb: metric, mfu: 40 + (metric % 1) * 10 }, metric, exitCode: 0, wallMs, logTail: `step 1000 val_bpb ${metric}` });
  const BATCH = 500;
  for (let start = 0; start < options.trials; start += BATCH) {
    ledger.transaction(() => {
      for (let index = start; index < Math.min(options.trials, start + BATCH); index++) {
        const baseline = index === 0;
        const description = baseline ? 'baseline (unmodified)' : `experiment ${index}: lr ${(0.04 + index * 1e-6).toFixed(6)}, depth ${8 + (index % 7)}`;
        const candidate = baseline ? base : fakeCommit(`candidate ${index}`);
        const diff = baseline ? '' : `--- a/train.py\n+++ b/train.py\n@@ -1,2 +1,2 @@\n-LR = 0.04\n+LR = ${(0.04 + index * 1e-6).toFixed(6)}\n`;
        let trial = trials.queue({
          role: baseline ? 'baseline' : 'candidate',
          proposer: baseline ? 'baseline' : 'agent',
          description,
          parentCommit: best.commit,
          budgetMs: 300_000,
          seed: index,
          candidate: { commit: candidate, diff },
        });
        trial = trials.start(trial, { worktree: null, logPath: null, executor: 'local', slot: 'slot-0' });
        const keep = baseline || index % keepEvery === 0;
        if (!baseline && index % 53 === 0) {
          trials.finish(trial, 'invalid', 'forbidden-change', 'changed files outside research.editable: prepare.py');
          continue;
        }
        if (!keep && index % 97 === 0) {
          trials.finish(trial, 'crash', 'run', 'exit code 1: CUDA out of memory', { ...NO_RUN, exitCode: 1, wallMs: 12_000, logTail: 'RuntimeError: CUDA out of memory' });
          continue;
        }
        if (!keep && index % 211 === 0) {
          trials.finish(trial, 'timeout', 'run', 'killed at budget + grace', { ...NO_RUN, signal: 'SIGKILL', wallMs: 330_000 });
          continue;
        }
        const metric = keep ? best.metric - 0.001 : best.metric + 0.0005 + ((index * 7919) % 1000) / 1e6;
        trial = trials.measure(trial, run(metric, 300_000 + (index % 13) * 100));
        if (keep) {
          const bestBefore = baseline ? null : best.metric;
          trials.keep(trial, candidate, baseline ? 'the baseline' : `better than #${index - 1}`, run(metric, trial.wallMs ?? 300_000), bestBefore);
          best = { commit: candidate, metric };
          kept++;
        } else {
          trials.finish(trial, 'discard', 'run', `not better than the best (${best.metric.toFixed(4)})`, run(metric, trial.wallMs ?? 300_000));
        }
      }
    });
  }
  ledger.record('study.state_changed', { studyId, state: 'done', reason: `max_trials reached (${options.trials})`, cause: 'complete' }, { studyId });
  ledger.close();
  return { studyId, kept, ledgerPath };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: node bench/large-ledger.ts <dir> [trials=20000] [keepEvery=40]');
  const started = performance.now();
  const result = generateLargeLedger(dir, { trials: Number(process.argv[3] ?? 20_000), keepEvery: Number(process.argv[4] ?? 40) });
  console.log(`${result.ledgerPath}: study ${result.studyId}, ${result.kept} kept, written in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
