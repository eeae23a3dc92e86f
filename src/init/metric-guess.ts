import type { MetricGoal } from '../core/trial.ts';

const LOWER_IS_BETTER = /(^|_)(bpb|bpc|loss|nll|ppl|perplexity|error|err|mse|rmse|mae|cer|wer|latency|regret)($|_)/i;
const HIGHER_IS_BETTER = /(^|_)(acc|accuracy|score|f1|auc|auroc|sharpe|reward|return|r2|bleu|rouge|map|iou|dice|precision|recall|win_rate)($|_)/i;
const RESOURCE = /(^|_)(vram|memory|mem|rss)($|_)|_(mb|gb)$/i;

/** The goal a metric's name implies (`val_bpb` → minimize, `val_acc` → maximize); undefined when the name does not say. */
export function goalFromName(name: string): MetricGoal | undefined {
  if (LOWER_IS_BETTER.test(name)) return 'minimize';
  if (HIGHER_IS_BETTER.test(name)) return 'maximize';
  return undefined;
}

/** True for names that measure memory (`peak_vram_mb`, `memory_gb`): recorded beside the metric, never optimized. */
export function isResourceMetric(name: string): boolean {
  return RESOURCE.test(name);
}

/** What a research program (program.md) says about the metric: the line it greps for, and "lowest"/"highest". */
export interface ProgramHints {
  /** Names in `grep "^name:` commands, in order. */
  grepped: string[];
  /** The goal stated in words ("get the lowest val_bpb", "higher is better"), for a name or in general. */
  goalFor(name: string): MetricGoal | undefined;
  /** The run command the program tells its agent to use, e.g. `uv run train.py`. */
  runCommand?: string;
}

/**
 * Read the hints a program.md gives.
 *
 * @example
 * programHints('get the lowest val_bpb ... grep "^val_bpb:" run.log').grepped; // ['val_bpb']
 */
export function programHints(text: string): ProgramHints {
  const grepped: string[] = [];
  for (const match of text.matchAll(/grep\s+(?:-\w+\s+)*["']\^([A-Za-z_][\w.]*):/g)) if (!grepped.includes(match[1]!)) grepped.push(match[1]!);
  // A grep with alternatives: grep "^val_bpb:\|^peak_vram_mb:" — the first is the metric, the rest follow it.
  for (const match of text.matchAll(/\\\|\^([A-Za-z_][\w.]*):/g)) if (!grepped.includes(match[1]!)) grepped.push(match[1]!);
  const run = /`((?:uv run|python3?|poetry run python) [\w./-]+\.py)`/.exec(text)?.[1];
  return {
    grepped,
    goalFor(name) {
      const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      if (new RegExp(`\\b(lowest|lower|minimi[sz]e|smallest)\\s+\`?${escaped}\\b`, 'i').test(text)) return 'minimize';
      if (new RegExp(`\\b(highest|higher|maximi[sz]e|largest)\\s+\`?${escaped}\\b`, 'i').test(text)) return 'maximize';
      return undefined;
    },
    ...(run ? { runCommand: run } : {}),
  };
}
