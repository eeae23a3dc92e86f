import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { optimize, type OptimizeOptions } from '../../src/evolve/optimize.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { checkLedger } from '../../src/ledger/ledger-check.ts';
import { LoopbackModelServer } from '../helpers/loopback-model.ts';
import { toyEvaluator, toyExamples, toyReflection, type ToyExample } from './toy-task.ts';

let server: LoopbackModelServer;
beforeAll(async () => {
  server = await LoopbackModelServer.start(toyReflection());
});
afterAll(async () => server.close());

function baseOptions(overrides: Partial<OptimizeOptions<ToyExample>> = {}): OptimizeOptions<ToyExample> {
  return {
    seed: { instructions: 'Answer with one word.' },
    trainset: toyExamples('t', 12),
    valset: toyExamples('v', 8),
    evaluate: toyEvaluator().evaluate,
    reflectionModel: { name: 'openai-compatible:loop', provider: 'openai-compatible', modelId: 'loop', baseUrl: server.url, prices: { inputPerMtok: 1, outputPerMtok: 2 } },
    budget: { metricCalls: 150 },
    ...overrides,
  };
}

describe('optimize', () => {
  it('improves the seed, keeps lineage ordered, and spends exactly the evaluations it made', async () => {
    const evaluator = toyEvaluator();
    const result = await optimize(baseOptions({ evaluate: evaluator.evaluate }));
    expect(result.best.valMean).toBeGreaterThan(result.pool[0]!.valMean);
    expect(result.budget.metricCalls).toBe(evaluator.calls.length);
    expect(result.budget.metricCalls).toBeLessThanOrEqual(150);
    expect(result.pool.length).toBe(1 + result.proposals.accepted + result.proposals.mergeAccepted);
    for (const member of result.pool) for (const parent of member.parents) expect(parent).toBeLessThan(member.idx);
    expect(['metric_calls', 'converged']).toContain(result.stopReason);
    expect(result.budget.usd).toBeGreaterThan(0);
  });

  it('gives the same run for the same seed and inputs, and explicit defaults equal omitted ones', async () => {
    const a = await optimize(baseOptions());
    const b = await optimize(
      baseOptions({ minibatchSize: 3, perfectScore: 1, skipPerfect: true, selector: 'pareto', componentSelector: 'round-robin', acceptance: 'strict', frontier: 'instance', merge: false, concurrency: 8, randomSeed: 0 }),
    );
    const shape = (r: typeof a) => ({ pool: r.pool.map(({ components, parents, valScores }) => ({ components, parents, valScores })), fronts: r.fronts, budget: r.budget.metricCalls, proposals: r.proposals });
    expect(shape(b)).toEqual(shape(a));
    const other = await optimize(baseOptions({ randomSeed: 1 }));
    expect(shape(other)).not.toEqual(shape(a));
  });

  it('scores a failing example 0 with the error as feedback instead of aborting', async () => {
    const evaluator = toyEvaluator({ failOn: (example) => example.id === 'v3' });
    const result = await optimize(baseOptions({ evaluate: evaluator.evaluate, budget: { metricCalls: 40 } }));
    expect(result.pool[0]!.valScores.v3).toBe(0);
    expect(result.pool.every((member) => member.valScores.v3 === 0)).toBe(true);
  });

  it('never exceeds the metric-call budget, whatever its size', async () => {
    for (const metricCalls of [8, 13, 20, 27, 41]) {
      const evaluator = toyEvaluator();
      const result = await optimize(baseOptions({ evaluate: evaluator.evaluate, budget: { metricCalls } }));
      expect(evaluator.calls.length).toBe(result.budget.metricCalls);
      expect(result.budget.metricCalls).toBeLessThanOrEqual(metricCalls);
    }
  });

  it('gives the same result whatever the scheduling: random evaluation delays, concurrency 1 or 8', async () => {
    const jittery = (concurrency: number) => {
      const base = toyEvaluator();
      let inFlight = 0;
      let maxInFlight = 0;
      const evaluate: OptimizeOptions<ToyExample>['evaluate'] = async (candidate, example, context) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        // Delay from the per-task seed: finishing order varies with the example, not with a global clock.
        await new Promise((resolve) => setTimeout(resolve, context.seed % 7));
        inFlight--;
        return base.evaluate(candidate, example, context);
      };
      return { options: baseOptions({ evaluate, concurrency, budget: { metricCalls: 60 } }), peak: () => maxInFlight };
    };
    const one = jittery(1);
    const eight = jittery(8);
    const [a, b] = [await optimize(one.options), await optimize(eight.options)];
    expect(b.pool.map((m) => m.components)).toEqual(a.pool.map((m) => m.components));
    expect(b.fronts).toEqual(a.fronts);
    expect(one.peak()).toBe(1);
    expect(eight.peak()).toBe(8);
  });

  it('keeps its invariants under every selector, component selector, acceptance rule and frontier', async () => {
    const withObjectives = toyEvaluator();
    const evaluate: OptimizeOptions<ToyExample>['evaluate'] = async (candidate, example, context) => {
      const result = await withObjectives.evaluate(candidate, example, context);
      return { ...result, objectives: { correct: result.score, brevity: 1 / (1 + Object.values(candidate).join('').length / 100) } };
    };
    const variants: Partial<OptimizeOptions<ToyExample>>[] = [
      { selector: 'current-best' },
      { selector: 'epsilon-greedy', epsilon: 0.5 },
      { selector: 'top-k-pareto', topK: 2 },
      { componentSelector: 'all', seed: { a: 'Answer.', b: 'Words:' } },
      { acceptance: 'greater-or-equal', merge: { maxMerges: 2 } },
      { frontier: 'objective' },
      { frontier: 'hybrid' },
      { frontier: 'cartesian', merge: true },
    ];
    for (const variant of variants) {
      const counter = toyEvaluator();
      const counted: OptimizeOptions<ToyExample>['evaluate'] = async (candidate, example, context) => {
        await counter.evaluate(candidate, example, context);
        return evaluate(candidate, example, context);
      };
      const result = await optimize(baseOptions({ evaluate: counted, budget: { metricCalls: 70 }, ...variant }));
      expect(result.budget.metricCalls).toBe(counter.calls.length);
      expect(result.budget.metricCalls).toBeLessThanOrEqual(70);
      expect(result.pool.length).toBe(1 + result.proposals.accepted + result.proposals.mergeAccepted);
      for (const member of result.pool) for (const parent of member.parents) expect(parent).toBeLessThan(member.idx);
      expect(result.fronts.length).toBeGreaterThan(0);
    }
  });

  it('writes only through events: the state tables rebuild from the event log alone', async () => {
    const ledger = Ledger.open(':memory:');
    await optimize(baseOptions({ ledger, merge: true, testset: toyExamples('x', 3) }));
    const check = checkLedger(ledger);
    expect(check.differences).toEqual([]);
    expect(check.rows.candidates).toBeGreaterThan(1);
    expect(check.rows.llm_calls).toBeGreaterThan(1);
  });

  it('reports a progress listener that throws instead of stopping the run', async () => {
    const result = await optimize(
      baseOptions({
        budget: { metricCalls: 40 },
        onProgress: (progress) => {
          if (progress.kind === 'iteration') throw new Error('listener bug');
        },
      }),
    );
    expect(result.budget.iterations).toBeGreaterThan(1);
    expect(result.warnings).toEqual(['a progress listener threw: listener bug']);
  });

  it('asks for objectives when the frontier needs them', async () => {
    await expect(optimize(baseOptions({ frontier: 'objective' }))).rejects.toThrow(/objective frontier needs objectives/);
  });

  it('refuses a budget that cannot score the seed', async () => {
    await expect(optimize(baseOptions({ budget: { metricCalls: 5 } }))).rejects.toThrow(/cannot even score the seed/);
  });

  it('refuses limits a run cannot keep before it evaluates anything: maxTimeMs beyond a timer, endless metricCalls or usd', async () => {
    // maxTimeMs of 600h fired its timer at once (TimeoutOverflowWarning) and stopped with "max_time of 2160000000ms reached";
    // metricCalls: Infinity passed as the finite budget a run needs.
    const evaluator = toyEvaluator();
    const run = optimize(baseOptions({ evaluate: evaluator.evaluate, budget: { maxTimeMs: 600 * 3_600_000, metricCalls: Number.POSITIVE_INFINITY, usd: Number.NaN } }));
    await expect(run).rejects.toThrow(
      [
        'invalid config (3 problems):',
        '  budget.metricCalls: must be a whole number of at least 1, got Infinity',
        '  budget.usd: must be a finite number of at least 0 (0 = no cap), got NaN',
        '  budget.maxTimeMs: must be at most 2147483647 ms, 596h (about 24.8 days, the longest a Node.js timer can wait), got 2160000000',
      ].join('\n'),
    );
    expect(evaluator.calls).toEqual([]);
    await expect(optimize(baseOptions({ budget: { maxTimeMs: -1 } }))).rejects.toThrow('budget.maxTimeMs: must be a number of milliseconds of at least 0, got -1');
  });
});
