import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Ledger } from '../../src/ledger/ledger.ts';
import { recordCallFinished, recordCallStarted } from '../../src/llm/call-ledger.ts';

/** Text from a model that must render as text. */
export const HOSTILE_REPLY = 'Reasoning: users write <script>window.__pwned = 3</script> and <img src=x onerror="window.__pwned = 4">.\n```\nYou triage support tickets.\n```';

const EXAMPLES = ['ex1', 'ex2', 'ex3', 'ex4', 'ex5', 'ex6', 'ex7', 'ex8'];

/** The pool: per-example validation scores make a real Pareto front (no candidate dominates all). */
const POOL = [
  { idx: 0, parents: [], origin: 'seed', text: 'You triage support tickets.\nAnswer with one label.', scores: [1, 1, 0, 0, 1, 0, 1, 0] },
  { idx: 1, parents: [0], origin: 'reflective', text: 'You triage support tickets.\nAnswer with one label: billing, bug or account.', scores: [1, 1, 1, 0, 1, 0, 1, 0] },
  { idx: 2, parents: [0], origin: 'reflective', text: 'You triage support tickets.\nRefund requests are billing.\nAnswer with one label.', scores: [1, 0, 0, 1, 1, 1, 0, 0] },
  { idx: 3, parents: [1], origin: 'reflective', text: 'You triage support tickets.\nAnswer with one label: billing, bug or account.\nPassword resets are account.', scores: [1, 1, 1, 1, 1, 0, 1, 0] },
  { idx: 4, parents: [3, 2], origin: 'merge', text: 'You triage support tickets.\nRefund requests are billing.\nAnswer with one label: billing, bug or account.\nPassword resets are account.', scores: [1, 1, 1, 1, 1, 1, 1, 0] },
];

const ITERATIONS = [
  { iteration: 1, outcome: 'accepted', parentIdx: 0, childIdx: 1, parentScores: [0, 1, 0], childScores: [1, 1, 0], detail: 'the child beat its parent on the minibatch' },
  { iteration: 2, outcome: 'rejected', parentIdx: 1, childIdx: null, parentScores: [1, 0, 1], childScores: [1, 0, 1], detail: 'not strictly better than the parent on the minibatch' },
  { iteration: 3, outcome: 'accepted', parentIdx: 0, childIdx: 2, parentScores: [0, 0, 1], childScores: [1, 0, 1], detail: 'the child beat its parent on the minibatch' },
  { iteration: 4, outcome: 'skipped_perfect', parentIdx: 2, childIdx: null, parentScores: [1, 1, 1], childScores: null, detail: 'every minibatch score is perfect' },
  { iteration: 5, outcome: 'accepted', parentIdx: 1, childIdx: 3, parentScores: [0, 1, 1], childScores: [1, 1, 1], detail: 'the child beat its parent on the minibatch' },
  { iteration: 6, outcome: 'reflection_failed', parentIdx: 3, childIdx: null, parentScores: [1, 0, 1], childScores: null, detail: 'the reply was cut off by the length limit' },
  { iteration: 7, outcome: 'merge_accepted', parentIdx: 3, childIdx: 4, parentScores: null, childScores: null, detail: 'merge of #3 and #2: 5/5 on the subsample' },
];

export interface EvolveFixture {
  dir: string;
  ledgerPath: string;
  studyName: string;
}

/**
 * An evolve study written into a real ledger the way the engine's events
 * project it (candidates, per-example evaluations, iteration and reflection
 * events, LLM calls), for the dashboard until `optimize` runs are cheap to
 * make in tests.
 */
export function evolveFixture(name = 'support-triage'): EvolveFixture {
  const dir = mkdtempSync(join(tmpdir(), 'strata-evolve-dash-'));
  const ledgerPath = join(dir, '.strata', 'ledger.db');
  const ledger = Ledger.open(ledgerPath);
  // The fixture writes some rows directly (an engine-shaped pool without running the engine), through a connection of its own.
  const db = new DatabaseSync(ledgerPath);
  db.exec('PRAGMA busy_timeout = 10000');
  try {
    const studyId = ledger.transaction(() => {
      const id = ledger.nextId('studies');
      // The shape the engine stores (see src/evolve/optimize.ts).
      const config = { kind: 'evolve', identity: { seedHash: 'fixture' }, options: { minibatchSize: 3, merge: { enabled: true } }, budget: { metricCalls: 120 } };
      ledger.record('study.created', { studyId: id, name, kind: 'evolve', config, configHash: 'fixture', branch: null, baseCommit: null }, { studyId: id });
      return id;
    });
    const now = () => new Date().toISOString();
    let evaluationId = 1;
    const evaluate = (candidateId: number | null, split: string, example: string, score: number, feedback: string | null) =>
      db
        .prepare(`INSERT INTO evaluations (id, study_id, candidate_id, cache_key, split, example_id, score, feedback, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(evaluationId, studyId, candidateId, `key-${evaluationId++}`, split, example, score, feedback, now());
    const event = (type: string, payload: unknown) =>
      db.prepare('INSERT INTO events (study_id, trial_id, type, payload_json, created_at) VALUES (?, NULL, ?, ?, ?)').run(studyId, type, JSON.stringify(payload), now());

    for (const member of POOL) {
      const candidateId = 100 + member.idx;
      const valMean = member.scores.reduce((a, b) => a + b, 0) / member.scores.length;
      // Train minibatch calls come before a candidate's validation, as in the engine.
      for (let i = 0; i < 6; i++) evaluate(null, 'train', `t${member.idx}-${i}`, 1, null);
      // Metric calls spent when it joins: everything evaluated so far plus its own validation.
      const found = evaluationId - 1 + EXAMPLES.length;
      db.prepare(
        `INSERT INTO candidates (id, study_id, idx, kind, parent_ids_json, components_json, content_hash, description, proposer, meta_json, created_at)
         VALUES (?, ?, ?, 'text', ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        candidateId,
        studyId,
        member.idx,
        JSON.stringify(member.parents),
        JSON.stringify({ system_prompt: member.text }),
        `hash-${member.idx}`,
        member.idx === 0 ? 'seed' : `rewrote system_prompt from #${member.parents.join(' and #')}`,
        member.origin,
        JSON.stringify({ iteration: member.idx, foundAtMetricCalls: found, valMean }),
        now(),
      );
      EXAMPLES.forEach((example, i) => evaluate(candidateId, 'val', example, member.scores[i]!, member.scores[i] ? null : `expected "billing" for ${example}`));
      event('evolve.candidate_added', { studyId, candidateId, idx: member.idx, parents: member.parents, valMean });
    }
    for (const example of EXAMPLES.slice(0, 4)) {
      evaluate(100, 'test', example, example === 'ex1' ? 1 : 0, null);
      evaluate(104, 'test', example, 1, null);
    }
    event('evolve.iteration_finished', { studyId, iteration: 0, outcome: 'seed', parentIdx: null, childIdx: 0, component: null, detail: 'seed', parentScores: null, childScores: null, snapshot: { big: 'x'.repeat(10_000) } });
    for (const iteration of ITERATIONS) {
      if (iteration.outcome !== 'skipped_perfect' && iteration.outcome !== 'merge_accepted') {
        event('evolve.reflection_recorded', {
          studyId,
          iteration: iteration.iteration,
          parentIdx: iteration.parentIdx,
          component: 'system_prompt',
          attempt: 1,
          reply: iteration.iteration === 2 ? HOSTILE_REPLY : `Reasoning for iteration ${iteration.iteration}: the labels were confused.\n\`\`\`\nnew text\n\`\`\``,
          finishReason: iteration.outcome === 'reflection_failed' ? 'length' : 'stop',
          text: null,
          reason: iteration.outcome === 'reflection_failed' ? 'cut off by the length limit' : null,
        });
      }
      event('evolve.iteration_finished', { studyId, ...iteration, component: iteration.outcome === 'merge_accepted' ? null : 'system_prompt', snapshot: { big: 'x'.repeat(10_000) } });
      const callId = recordCallStarted(ledger, {
        studyId,
        trialId: null,
        candidateId: iteration.childIdx === null ? null : 100 + iteration.childIdx,
        role: 'reflection',
        model: 'anthropic:claude-sonnet-4-5',
        reservedUsd: 0.05,
        request: { iteration: iteration.iteration },
      });
      recordCallFinished(ledger, callId, { inputTokens: 2400, outputTokens: 420, usd: 0.0135, latencyMs: 2100, finishReason: 'stop', error: null, responseText: 'reflection reply' }, studyId);
    }
    ledger.record('study.state_changed', { studyId, state: 'done', reason: 'metric_calls budget reached (120)' }, { studyId });
  } finally {
    db.close();
    ledger.close();
  }
  return { dir, ledgerPath, studyName: name };
}
