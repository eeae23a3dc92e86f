// A generator of large research ledgers: a study of N trials written through
// the ledger's own verbs (StudyTrials: queue, start, measure, keep/finish), so
// its events replay and every reader sees a real ledger, without running N
// trials. Commits are made-up ids (nothing here reads git). One kept trial in
// `keepEvery`, a crash in every 97th, a timeout in every 211th, an invalid
// proposal in every 53rd.
//
// Used by bench/large-study.ts (timings at 20,000 trials) and by the dashboard's
// large-study Chromium test (behaviour at that size). generateLargeEvolveLedger
// writes an evolve study (2,000 candidates × 200 examples) the same way.
//
// Run alone: npx node bench/large-ledger.ts <dir> [trials=20000] [keepEvery=40]
//        or: npx node bench/large-ledger.ts <dir> --evolve [candidates=2000] [examples=200]
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ledger } from '../src/ledger/ledger.ts';
import { StudyTrials, NO_RUN } from '../src/study/study-trials.ts';
import type { EngineSnapshot } from '../src/core/evolve-state.ts';

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

/** A made-up but deterministic number in [0, 1) from a few integers. */
function unit(...values: number[]): number {
  let hash = 2166136261;
  for (const value of values) hash = Math.imul(hash ^ value, 16777619) ^ (hash >>> 13);
  return ((hash >>> 0) % 1_000_003) / 1_000_003;
}

/**
 * Write an evolve study of `candidates` pool members scored on `examples`
 * validation examples into `<dir>/.strata/ledger.db`, through the events
 * the engine records (evaluation_recorded per example, candidate_added,
 * reflection_recorded and iteration_finished per iteration, one rejected
 * proposal in three), so the projections build the candidates and
 * evaluations tables as a real run does. Parents are drawn from recent
 * candidates (one in ten a merge of two), scores rise slowly with noise
 * per example, so the per-example front is held by many candidates.
 *
 * @example
 * const { studyId } = generateLargeEvolveLedger('/tmp/evolve', { candidates: 2000, examples: 200 });
 */
export function generateLargeEvolveLedger(dir: string, options: { candidates: number; examples: number; name?: string }): { studyId: number; ledgerPath: string; evaluations: number } {
  const name = options.name ?? 'large-evolve';
  mkdirSync(join(dir, '.strata'), { recursive: true });
  const ledgerPath = join(dir, '.strata', 'ledger.db');
  const ledger = Ledger.open(ledgerPath);
  const examples = Array.from({ length: options.examples }, (_, index) => `ex${index + 1}`);
  const budget = options.candidates * (options.examples + 12);
  const studyId = ledger.transaction(() => {
    const id = ledger.nextId('studies');
    const config = { kind: 'evolve', identity: { seedHash: 'large' }, options: { minibatchSize: 3, merge: { enabled: true } }, budget: { metricCalls: budget } };
    ledger.record('study.created', { studyId: id, name, kind: 'evolve', config, configHash: 'large', branch: null, baseCommit: null }, { studyId: id });
    return id;
  });
  // What each iteration's snapshot holds is the engine's business; a small stand-in keeps the ledger's size honest about everything else.
  const snapshot = (iteration: number) => ({ iteration, counts: { accepted: iteration } }) as unknown as EngineSnapshot;
  let evaluationId = 0;
  let calls = 0;
  let iteration = 0;
  let bestMean = -Infinity;
  const BATCH = 25;
  for (let start = 0; start < options.candidates; start += BATCH) {
    ledger.transaction(() => {
      for (let idx = start; idx < Math.min(options.candidates, start + BATCH); idx++) {
        const parents = idx === 0 ? [] : idx % 10 === 0 && idx > 2 ? [idx - 1 - Math.floor(unit(idx, 1) * Math.min(idx - 1, 50)), idx - 1] : [idx - 1 - Math.floor(unit(idx, 2) ** 2 * Math.min(idx, 40))];
        const parentIdx = parents[0] ?? null;
        const text = `You triage support tickets.\nRule ${idx}: ${idx % 3 === 0 ? 'refunds are billing' : idx % 3 === 1 ? 'password resets are account' : 'crashes are bugs'}.\nAnswer with one label.`;
        const contentHash = fakeCommit(`candidate ${idx}`);
        if (idx > 0 && idx % 2 === 0) {
          // A rejected proposal before this one: its minibatch, its reflection, no candidate.
          iteration++;
          for (let k = 0; k < 3; k++) recordEvaluation(fakeCommit(`rejected ${iteration}`), 'train', `t${(iteration * 3 + k) % 500}`, unit(iteration, k) > 0.5 ? 1 : 0);
          ledger.record('evolve.reflection_recorded', { studyId, iteration, parentIdx: parentIdx!, component: 'system_prompt', attempt: 1, reply: `Reasoning: tickets about ${iteration % 7} were mislabeled.\n\`\`\`\nnew text\n\`\`\``, finishReason: 'stop', text: null, reason: null }, { studyId });
          ledger.record('evolve.iteration_finished', { studyId, iteration, outcome: 'rejected', parentIdx, childIdx: null, component: 'system_prompt', detail: 'not strictly better than the parent on the minibatch', parentScores: [1, 0, 1], childScores: [1, 0, 1], snapshot: snapshot(iteration) }, { studyId });
        }
        if (idx > 0) {
          iteration++;
          for (let k = 0; k < 3; k++) recordEvaluation(contentHash, 'train', `t${(iteration * 3 + k) % 500}`, 1);
        }
        const level = Math.min(0.85, 0.35 + 0.5 * (idx / Math.max(1, options.candidates)) ** 0.5);
        let sum = 0;
        examples.forEach((example, column) => {
          const score = Math.round(Math.min(1, Math.max(0, level + (unit(idx, column, 7) - 0.5) * 0.6)) * 100) / 100;
          sum += score;
          recordEvaluation(contentHash, 'val', example, score);
        });
        const valMean = sum / examples.length;
        const isBest = valMean > bestMean;
        if (isBest) bestMean = valMean;
        ledger.record(
          'evolve.candidate_added',
          {
            studyId,
            candidateId: ledger.nextId('candidates'),
            idx,
            parents,
            components: { system_prompt: text },
            contentHash,
            origin: idx === 0 ? 'seed' : parents.length > 1 ? 'merge' : 'reflective',
            description: idx === 0 ? 'seed' : `rewrote system_prompt from #${parents.join(' and #')}`,
            iteration,
            foundAtMetricCalls: calls,
            valMean,
            isBest,
          },
          { studyId },
        );
        if (idx > 0 && parents.length === 1) {
          ledger.record('evolve.reflection_recorded', { studyId, iteration, parentIdx: parentIdx!, component: 'system_prompt', attempt: 1, reply: `Reasoning: add rule ${idx}.\n\`\`\`\n${text}\n\`\`\``, finishReason: 'stop', text, reason: null }, { studyId });
        }
        ledger.record(
          'evolve.iteration_finished',
          {
            studyId,
            iteration,
            outcome: idx === 0 ? 'seed' : parents.length > 1 ? 'merge_accepted' : 'accepted',
            parentIdx,
            childIdx: idx,
            component: parents.length > 1 ? null : 'system_prompt',
            detail: idx === 0 ? 'seed' : 'the child beat its parent on the minibatch',
            parentScores: parents.length === 1 ? [0, 1, 0] : null,
            childScores: parents.length === 1 ? [1, 1, 0] : null,
            snapshot: snapshot(iteration),
          },
          { studyId },
        );
      }
    });
  }
  ledger.record('study.state_changed', { studyId, state: 'done', reason: `metric_calls budget reached (${calls})`, cause: 'complete' }, { studyId });
  ledger.close();
  return { studyId, ledgerPath, evaluations: evaluationId };

  function recordEvaluation(candidateHash: string, split: 'train' | 'val', exampleId: string, score: number): void {
    evaluationId++;
    calls++;
    ledger.record(
      'evolve.evaluation_recorded',
      { studyId, evaluationId, cacheKey: `${candidateHash}:${split}:${exampleId}`, candidateHash, split, exampleId, evaluatorVersion: 'v1', score, objectives: null, feedback: score < 0.5 ? `expected "billing" for ${exampleId}` : null, trace: null, iteration, failed: false },
      { studyId },
    );
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.argv[2];
  const usage = 'usage: node bench/large-ledger.ts <dir> [trials=20000] [keepEvery=40]   or   node bench/large-ledger.ts <dir> --evolve [candidates=2000] [examples=200]';
  if (!dir) throw new Error(usage);
  const started = performance.now();
  const seconds = () => ((performance.now() - started) / 1000).toFixed(1);
  if (process.argv[3] === '--evolve') {
    const result = generateLargeEvolveLedger(dir, { candidates: Number(process.argv[4] ?? 2000), examples: Number(process.argv[5] ?? 200) });
    console.log(`${result.ledgerPath}: evolve study ${result.studyId}, ${result.evaluations} evaluations, written in ${seconds()} s`);
  } else {
    const result = generateLargeLedger(dir, { trials: Number(process.argv[3] ?? 20_000), keepEvery: Number(process.argv[4] ?? 40) });
    console.log(`${result.ledgerPath}: study ${result.studyId}, ${result.kept} kept, written in ${seconds()} s`);
  }
}
