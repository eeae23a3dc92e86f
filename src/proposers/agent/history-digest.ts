import type { TrialSummary } from '../../core/proposer.ts';
import type { MetricGoal } from '../../core/trial.ts';

/** Tokens in a text, as a budget sees it: about four characters a token (English and code). */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

export interface DigestOptions {
  metric: string;
  goal: MetricGoal;
  /** Trials listed one by one at the end of the history. */
  recentTrials: number;
  /** Token budget for the whole digest. */
  maxTokens: number;
}

/**
 * The study's history for the agent, within a token budget: the best
 * lineage (kept trials, with deltas), the last N trials, the ideas already
 * tried that did not help, and a count line for everything else. When it does
 * not fit, it shrinks in fixed steps (shorter descriptions, fewer recent
 * trials, older failed ideas folded into a count) rather than dropping
 * anything silently: the same history and budget give the same text.
 *
 * @example
 * const text = digestHistory(context.history, { metric: 'val_bpb', goal: 'minimize', recentTrials: 12, maxTokens: 4000 });
 */
export function digestHistory(history: readonly TrialSummary[], options: DigestOptions): string {
  if (history.length === 0) return 'No trials have finished yet.';
  const levels: Level[] = [];
  const all = Number.POSITIVE_INFINITY;
  for (const [descriptionChars, lineageShown] of [[240, all], [120, all], [120, 30], [60, 12]] as const) {
    for (let recent = options.recentTrials; ; recent = Math.floor(recent / 2)) {
      for (const failedShown of [all, 40, 15, 5, 0]) levels.push({ descriptionChars, recent, failedShown, lineageShown });
      if (recent === 0) break;
    }
  }
  levels.push({ descriptionChars: 60, recent: 0, failedShown: 0, lineageShown: 5 });
  levels.push({ descriptionChars: 40, recent: 0, failedShown: 0, lineageShown: 1 });
  let text = '';
  for (const level of levels) {
    text = render(history, options, level);
    if (estimateTokens(text) <= options.maxTokens) return text;
  }
  return text; // the smallest form: a few lines whatever the history
}

interface Level {
  descriptionChars: number;
  recent: number;
  failedShown: number;
  lineageShown: number;
}

function render(history: readonly TrialSummary[], options: DigestOptions, level: Level): string {
  const line = (trial: TrialSummary) => trialLine(trial, options, level.descriptionChars);
  const shown = new Set<number>();
  const out: string[] = [];

  const counts = countStatuses(history);
  out.push(`${history.length} trials so far: ${Object.entries(counts).map(([status, n]) => `${n} ${status}`).join(', ')}.`);

  const lineage = history.filter((trial) => trial.status === 'keep' && trial.vetoed === undefined);
  const vetoed = history.filter((trial) => trial.vetoed !== undefined);
  if (vetoed.length > 0) {
    out.push('', 'Vetoed by the researcher (undone and off the branch; never propose these again):');
    for (const trial of vetoed) {
      out.push(line(trial));
      shown.add(trial.id);
    }
  }
  if (lineage.length > 0) {
    out.push('', `Best lineage (each kept change, oldest first; delta = improvement over the best before it, positive is better):`);
    // Too long: the first (usually the baseline) and the latest ones, the rest counted.
    const visible =
      lineage.length <= level.lineageShown ? lineage : level.lineageShown <= 1 ? [lineage.at(-1)!] : [lineage[0]!, ...lineage.slice(-(level.lineageShown - 1))];
    const hidden = lineage.length - visible.length;
    visible.forEach((trial, i) => {
      if (hidden > 0 && i === Math.min(1, visible.length - 1)) out.push(`  … ${hidden} more kept changes`);
      out.push(line(trial));
      shown.add(trial.id);
    });
  }

  const recent = level.recent > 0 ? history.slice(-level.recent) : [];
  const failed = failedIdeas(history.filter((trial) => !recent.includes(trial) && !shown.has(trial.id)));
  if (failed.length > 0) {
    const visible = level.failedShown >= failed.length ? failed : level.failedShown === 0 ? [] : failed.slice(-level.failedShown);
    const folded = failed.length - visible.length;
    out.push('', 'Tried before and did not help (do not repeat these):');
    if (folded > 0) out.push(`  … ${folded} earlier ideas that did not help: ${describeCounts(countStatuses(failed.slice(0, folded)))}`);
    for (const trial of visible) out.push(line(trial));
  }

  if (recent.length > 0) {
    out.push('', `Most recent ${recent.length} trials (oldest first):`);
    for (const trial of recent) out.push(line(trial));
  }
  return out.join('\n');
}

/** Trials that tried an idea and did not keep it, one per description (the latest). */
function failedIdeas(trials: readonly TrialSummary[]): TrialSummary[] {
  const latest = new Map<string, TrialSummary>();
  for (const trial of trials) {
    if (trial.status === 'keep' || trial.status === 'interrupted' || !trial.description) continue;
    if (trial.cause === 'proposal-failed' || trial.cause === 'duplicate') continue;
    latest.delete(trial.description);
    latest.set(trial.description, trial);
  }
  return [...latest.values()];
}

function trialLine(trial: TrialSummary, options: DigestOptions, descriptionChars: number): string {
  const metric = trial.metric === null ? '-' : formatNumber(trial.metric);
  const delta = trial.delta === null ? '' : ` (${trial.delta > 0 ? '+' : ''}${formatNumber(trial.delta)})`;
  const description = clip(trial.description || '(no description)', descriptionChars);
  const why = trial.status === 'keep' || trial.status === 'discard' || !trial.reason ? '' : ` [${clip(trial.reason, 80)}]`;
  const repair = trial.relatedTrialId !== null && trial.status !== 'interrupted' ? ' (a fix)' : '';
  // A vetoed keep is off the branch: say so, with the researcher's reason, so the idea is not proposed again.
  const vetoed = trial.vetoed !== undefined ? ` [VETOED by the researcher, do not propose again: ${clip(trial.vetoed, 160)}]` : '';
  const notes = trial.notes && trial.notes.length > 0 ? ` (under note ${trial.notes.join(', ')})` : '';
  return `  #${trial.seq} ${vetoed ? 'vetoed' : trial.status} ${options.metric}=${metric}${delta}${repair}${notes}: ${description}${why}${vetoed}`;
}

function countStatuses(trials: readonly TrialSummary[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const trial of trials) counts[trial.status] = (counts[trial.status] ?? 0) + 1;
  return counts;
}

function describeCounts(counts: Record<string, number>): string {
  return Object.entries(counts)
    .map(([status, n]) => `${n} ${status}`)
    .join(', ');
}

function clip(text: string, chars: number): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length <= chars ? one : `${one.slice(0, chars - 1)}…`;
}

/** Enough digits to tell close metrics apart, no more. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 1000 || abs < 0.001) return value.toExponential(3);
  return String(Number(value.toPrecision(5)));
}
