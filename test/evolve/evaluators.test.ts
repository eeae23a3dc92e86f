import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCommandEvaluator } from '../../src/evolve/evaluators/command-evaluator.ts';
import { loadJsonl } from '../../src/evolve/evaluators/jsonl-dataset.ts';
import { renderTask } from '../../src/evolve/evaluators/prompt-template.ts';
import { scoreOutput } from '../../src/evolve/evaluators/score-output.ts';
import { createTemplateEvaluator } from '../../src/evolve/evaluators/template-evaluator.ts';
import type { EvaluationContext } from '../../src/evolve/types.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { UsdBudget } from '../../src/llm/usd-budget.ts';
import { LoopbackModelServer } from '../helpers/loopback-model.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'strata-evaluators-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function context(overrides: Partial<EvaluationContext> = {}): EvaluationContext {
  const ledger = Ledger.open(':memory:');
  ledger.record('study.created', { studyId: 1, name: 's', kind: 'evolve', config: {}, configHash: 'h', branch: null, baseCommit: null }, { studyId: 1 });
  return { split: 'val', exampleId: 'e', seed: 1, signal: new AbortController().signal, study: { ledger, studyId: 1, usd: new UsdBudget(null) }, ...overrides };
}

describe('deterministic metrics', () => {
  const example = { input: 'q', answer: 'Billing', feedback: 'Refunds are always billing.' };
  it('exact and contains, case-insensitive by default; wrong answers carry the example feedback', () => {
    expect(scoreOutput({ kind: 'exact', ignoreCase: true }, ' billing\n', example)).toEqual({ score: 1, feedback: 'Correct.' });
    expect(scoreOutput({ kind: 'exact', ignoreCase: false }, 'billing', example).score).toBe(0);
    expect(scoreOutput({ kind: 'contains', ignoreCase: true }, 'Category: BILLING.', example).score).toBe(1);
    expect(scoreOutput({ kind: 'exact', ignoreCase: true }, 'bug', example).feedback).toBe('Expected "Billing", got "bug". Refunds are always billing.');
  });
  it('regex compares the first group', () => {
    expect(scoreOutput({ kind: 'regex', pattern: 'Category: (\\w+)', ignoreCase: true }, 'Thinking… Category: billing', example).score).toBe(1);
    expect(scoreOutput({ kind: 'regex', pattern: 'Category: (\\w+)', ignoreCase: true }, 'billing', example).feedback).toMatch(/did not match the required pattern/);
  });
  it('json-field reads a dot path from JSON in the output, against a plain or object answer', () => {
    expect(scoreOutput({ kind: 'json-field', field: 'label' }, '```json\n{"label": "Billing"}\n```', example).score).toBe(1);
    expect(scoreOutput({ kind: 'json-field', field: 'r.label' }, '{"r": {"label": "x"}}', { input: 'q', answer: { r: { label: 'x' } } }).score).toBe(1);
    expect(scoreOutput({ kind: 'json-field', field: 'label' }, 'not json', example).feedback).toMatch(/not a JSON object/);
  });
});

describe('template evaluator over loopback HTTP', () => {
  it('fills the template, calls the task model, scores, records the call; a judge grades with a rubric', async () => {
    const server = await LoopbackModelServer.start((request) =>
      request.lastUserText.startsWith('Grade a response') ? { text: '{"score": 0.5, "feedback": "names the category but is rude"}' } : { text: 'billing' },
    );
    try {
      const spec = { name: 'openai-compatible:m', provider: 'openai-compatible' as const, modelId: 'm', baseUrl: server.url };
      const ctx = context();
      const exact = createTemplateEvaluator({ taskModel: spec, metric: { kind: 'exact', ignoreCase: true }, template: { system: 'Rules: {rules}', user: 'Ticket: {input}' }, task: { maxOutputTokens: 64 } });
      const result = await exact.evaluate({ rules: 'refund -> billing' }, { input: 'refund please', answer: 'billing' }, ctx);
      expect(result).toEqual({ score: 1, feedback: 'Correct.', trace: { input: 'refund please', output: 'billing' } });
      expect(server.requests[0]).toMatchObject({ system: 'Rules: refund -> billing', lastUserText: 'Ticket: refund please' });
      expect(ctx.study.ledger.llm.calls({ studyId: 1 }).map((call) => ({ role: call.role }))).toEqual([{ role: 'task' }]);

      const judge = createTemplateEvaluator({ taskModel: spec, metric: { kind: 'judge', rubric: 'Polite and correct', model: spec }, template: { user: '{input}' }, task: { maxOutputTokens: 64 } });
      expect(await judge.evaluate({ p: 'x' }, { input: 'refund please', answer: 'billing' }, ctx)).toMatchObject({ score: 0.5, feedback: 'names the category but is rude' });
      expect(judge.version).not.toBe(exact.version);
    } finally {
      await server.close();
    }
  });

  it('renders components as the system message when no system template is given', () => {
    expect(renderTask({ user: '{input}' }, { a: 'First.', b: 'Second.' }, { ticket: 1 })).toEqual({ system: 'First.\n\nSecond.', user: '{\n  "ticket": 1\n}' });
  });
});

describe('command evaluator', () => {
  it('passes candidate and example on stdin and reads the last JSON line', async () => {
    const script = join(dir, 'score.mjs');
    writeFileSync(
      script,
      `let s=''; process.stdin.on('data', d => s += d).on('end', () => { const { candidate, example } = JSON.parse(s);
       console.log('log line'); console.log(JSON.stringify({ score: candidate.p.includes(example.answer) ? 1 : 0, feedback: 'fb', objectives: { len: candidate.p.length } })); });`,
    );
    const { evaluate } = createCommandEvaluator({ command: `${JSON.stringify(process.execPath)} score.mjs`, cwd: dir, timeoutMs: 10_000 });
    expect(await evaluate({ p: 'say yes' }, { input: 'x', answer: 'yes' }, context())).toEqual({ score: 1, feedback: 'fb', objectives: { len: 7 } });
  });

  it('kills a command that overruns its timeout, with its children', async () => {
    const { evaluate } = createCommandEvaluator({ command: 'sleep 30 & sleep 30; echo "{\\"score\\": 1}"', cwd: dir, timeoutMs: 300 });
    const started = Date.now();
    await expect(evaluate({ p: '' }, {}, context())).rejects.toThrow(/timed out after 300ms/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('reports a failing command with its stderr', async () => {
    const { evaluate } = createCommandEvaluator({ command: 'echo broken >&2; exit 3', cwd: dir, timeoutMs: 5000 });
    await expect(evaluate({ p: '' }, {}, context())).rejects.toThrow(/exited with 3: broken/);
  });
});

describe('JSONL datasets', () => {
  it('reports every bad line with its number', () => {
    const file = join(dir, 'bad.jsonl');
    writeFileSync(file, '{"input": "ok", "answer": "a"}\nnot json\n{"answer": "no input"}\n');
    expect(() => loadJsonl(file, 'evolve.data.train')).toThrow(/line 2: not JSON[\s\S]*line 3: expected an object with an "input" field/);
  });
});
