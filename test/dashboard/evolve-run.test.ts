import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LedgerReader } from '../../src/ledger/ledger-reader.ts';
import { renderReportHtml } from '../../src/dashboard/report/report-html.ts';
import { createDashboardApp } from '../../src/dashboard/server/dashboard-app.ts';
import type { CandidateDetailView } from '../../src/dashboard/views/candidate-view.ts';
import type { EvolveView } from '../../src/dashboard/views/evolve-view.ts';
import { optimize, type OptimizeResult } from '../../src/evolve/optimize.ts';
import type { Evaluate } from '../../src/evolve/types.ts';
import { LoopbackModelServer } from '../helpers/loopback-model.ts';

const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo'];
type Example = { id: string; answer: string };
const examples = (prefix: string, n: number): Example[] => Array.from({ length: n }, (_, i) => ({ id: `${prefix}${i}`, answer: WORDS[i % WORDS.length]! }));

/** 1 when the prompt names the answer; the feedback says which word was expected. */
const evaluate: Evaluate<Example> = async (candidate, example) => {
  const ok = Object.values(candidate).join('\n').includes(example.answer);
  return { score: ok ? 1 : 0, feedback: ok ? 'correct' : `wrong: expected ${example.answer}`, trace: { output: ok ? example.answer : '?' } };
};

let server: LoopbackModelServer;
let result: OptimizeResult;
let reader: LedgerReader;
let app: ReturnType<typeof createDashboardApp>;

beforeAll(async () => {
  // A reflection model that adds the first expected word from the feedback: the pool grows step by step.
  server = await LoopbackModelServer.start((request) => {
    const current = /```\n([\s\S]*?)\n```/.exec(request.lastUserText)?.[1] ?? '';
    const missing = [...request.lastUserText.matchAll(/expected (\w+)/g)].map((m) => m[1]!).find((word) => !current.includes(word));
    return { text: `The feedback asks for ${missing ?? 'nothing new'}.\n\`\`\`\n${missing ? `${current} ${missing}` : current}\n\`\`\``, usage: { input: 200, output: 20 } };
  });
  const ledgerPath = join(mkdtempSync(join(tmpdir(), 'strata-evolve-run-')), '.strata', 'ledger.db');
  result = await optimize({
    seed: { instructions: 'Answer with one word.' },
    trainset: examples('t', 10),
    valset: examples('v', 8),
    testset: examples('x', 4),
    evaluate,
    reflectionModel: { name: 'openai-compatible:loop', provider: 'openai-compatible', modelId: 'loop', baseUrl: server.url, prices: { inputPerMtok: 1, outputPerMtok: 2 } },
    budget: { metricCalls: 120 },
    ledger: ledgerPath,
    studyName: 'toy-evolve',
  });
  reader = LedgerReader.open(ledgerPath);
  app = createDashboardApp({ reader, token: null });
}, 60_000);

afterAll(async () => {
  app?.close();
  reader?.close();
  await server?.close();
});

describe('the evolve pages over a real optimize() run', () => {
  it('shows the pool, the best, the budget and every iteration as the engine recorded them', async () => {
    const view = (await (await app.app.request('/api/studies/1')).json()) as EvolveView;
    expect(view.candidates.map((c) => c.idx)).toEqual(result.pool.map((member) => member.idx));
    for (const member of result.pool) {
      const shown = view.candidates.find((c) => c.idx === member.idx)!;
      expect(shown.parents).toEqual(member.parents);
      expect(shown.val_mean).toBeCloseTo(member.valMean, 9);
    }
    expect(view.best?.val_mean).toBeCloseTo(result.best.valMean, 9);
    expect(view.metric_calls).toMatchObject({ used: result.budget.metricCalls, budget: 120 });
    expect(view.progress.best.at(-1)).toBeCloseTo(result.best.valMean, 9);
    expect(view.proposals.filter((p) => p.accepted)).toHaveLength(result.proposals.accepted + result.proposals.mergeAccepted);
    expect(view.proposals.filter((p) => p.outcome === 'accepted').every((p) => p.reflections[0]?.reply.startsWith('The feedback asks for'))).toBe(true);
    expect(view.front.examples).toHaveLength(8);
    expect(view.spend.usd).toBeCloseTo(result.budget.usd, 9);
  });

  it("diffs a candidate against its parent and lists its scores", async () => {
    const child = result.pool.find((member) => member.parents.length === 1)!;
    const detail = (await (await app.app.request(`/api/studies/1/candidates/${child.idx}`)).json()) as CandidateDetailView;
    expect(detail.diffs[0]).toMatchObject({ component: 'instructions', parent: child.parents[0] });
    expect(detail.diffs[0]!.diff).toMatch(/^\+Answer with one word\./m);
    expect(detail.scores.map((s) => s.score)).toEqual(detail.scores.map((s) => child.valScores[s.example]));
  });

  it('reports it as one file', () => {
    const html = renderReportHtml(reader, reader.studyByName('toy-evolve')!);
    expect(html).toContain(`data-nodes="${result.pool.length}"`);
    expect(html).not.toMatch(/<script/i);
  });
});
