/**
 * How many proposals a metric-call budget buys: a rejected proposal costs two
 * minibatches, an accepted one also a full validation; the seed's validation
 * comes first. `min` assumes every proposal is accepted, `max` that none is.
 *
 * @example
 * proposalsBudgetBuys({ metricCalls: 2000, valSize: 20, minibatchSize: 3, spent: 0 }); // { min: 76, max: 330 }
 */
export function proposalsBudgetBuys(input: { metricCalls: number; valSize: number; minibatchSize: number; spent: number }): { min: number; max: number } {
  const seed = input.spent === 0 ? input.valSize : 0;
  const left = Math.max(0, input.metricCalls - input.spent - seed);
  const rejected = 2 * input.minibatchSize;
  return { min: Math.floor(left / (rejected + input.valSize)), max: Math.floor(left / rejected) };
}
