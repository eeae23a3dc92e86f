/**
 * What a training script's source says about itself, read as text (nothing
 * is imported or run): the `name: value` summary lines it prints and the time
 * budget constant it trains for.
 */

/** Names that a training script prints as `name: value` or `METRIC name=value`, in source order, without duplicates. */
export function printedMetricNames(source: string): string[] {
  const names: string[] = [];
  const patterns = [
    // Python: print(f"val_bpb:          {val_bpb:.6f}"), print("val_bpb:", x), print('val_bpb: %f' % x)
    /\bprint\(\s*[rfbu]{0,2}["']([A-Za-z_][\w.]*):/g,
    // JavaScript/TypeScript: console.log(`val_bpb: ${x}`), console.log('val_bpb:', x)
    /\bconsole\.log\(\s*[`'"]([A-Za-z_][\w.]*):/g,
    // Strata's own format anywhere in a string: METRIC val_loss=
    /METRIC[ \t]+([A-Za-z_][\w.-]*)=/g,
  ];
  const found: { name: string; at: number }[] = [];
  for (const pattern of patterns) for (const match of source.matchAll(pattern)) found.push({ name: match[1]!, at: match.index });
  for (const { name } of found.sort((a, b) => a.at - b.at)) if (!names.includes(name)) names.push(name);
  return names;
}

/** Names printed after the script's `---` separator line (autoresearch's end-of-run summary), in order. */
export function summaryMetricNames(source: string): string[] {
  const separator = /\bprint\(\s*["']-{3,}["']\s*\)/.exec(source);
  return separator ? printedMetricNames(source.slice(separator.index)) : [];
}

const BUDGET_CONSTANT = /^[ \t]*(TIME_BUDGET|TIME_BUDGET_S|TIME_BUDGET_SECONDS|TRAIN_SECONDS|TRAINING_SECONDS|TRAIN_TIME_SECONDS|MAX_TRAIN_SECONDS)[ \t]*(?::[ \t]*\w+[ \t]*)?=[ \t]*(\d[\d_]*(?:\.\d+)?)(?:[ \t]*\*[ \t]*(\d+))?/m;

/**
 * The training time budget, in seconds, a script declares as a top-level
 * constant (`TIME_BUDGET = 300`, `TRAIN_SECONDS = 5 * 60`), with the constant's
 * name; undefined when there is none.
 *
 * @example
 * timeBudget('TIME_BUDGET = 300        # training time budget in seconds'); // { seconds: 300, constant: 'TIME_BUDGET' }
 */
export function timeBudget(source: string): { seconds: number; constant: string } | undefined {
  const match = BUDGET_CONSTANT.exec(source);
  if (!match) return undefined;
  const seconds = Number(match[2]!.replaceAll('_', '')) * (match[3] === undefined ? 1 : Number(match[3]));
  return Number.isFinite(seconds) && seconds > 0 ? { seconds, constant: match[1]! } : undefined;
}
