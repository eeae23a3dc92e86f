import type { OptimizeOptions, OptimizeResult } from '../../src/evolve/optimize.ts';
import { toyEvaluator, toyExamples, type ToyExample } from './toy-task.ts';

/** The run the resume tests interrupt and compare: merges on, so their bookkeeping is resumed too. */
export function resumeOptions(url: string, delayMs = 0): OptimizeOptions<ToyExample> {
  return {
    seed: { intro: 'Answer with one word.', rules: 'Rules:' },
    trainset: toyExamples('t', 10, 10),
    valset: toyExamples('v', 10, 10),
    testset: toyExamples('x', 4, 10),
    evaluate: toyEvaluator({ delayMs }).evaluate,
    reflectionModel: { name: 'openai-compatible:loop', provider: 'openai-compatible', modelId: 'loop', baseUrl: url, prices: { inputPerMtok: 1, outputPerMtok: 2 } },
    budget: { metricCalls: 200 },
    merge: true,
    studyName: 'resume',
  };
}

/** Everything about a result that must not depend on having been interrupted. */
export function outcome(result: OptimizeResult) {
  return {
    pool: result.pool.map(({ components, parents, valScores, origin, iteration, foundAtMetricCalls }) => ({ components, parents, valScores, origin, iteration, foundAtMetricCalls })),
    fronts: result.fronts,
    metricCalls: result.budget.metricCalls,
    iterations: result.budget.iterations,
    proposals: result.proposals,
    stopReason: result.stopReason,
    test: result.test,
  };
}
