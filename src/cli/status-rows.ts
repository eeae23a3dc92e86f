import type { TrialRow } from '../research/study-summary.ts';

/** A line of `strata status`'s trial table: a trial, or a note standing for the trials left out between two shown. */
export type StatusLine = { trial: TrialRow } | { hidden: number };

/** How many trials `strata status` shows in full; above it, the best lineage and the last rows. */
export const STATUS_ALL_BELOW = 40;
/** The last rows `strata status` shows of a longer study. */
export const STATUS_LAST_ROWS = 10;
/** The newest steps of a long lineage shown (with its root, the baseline); 500 keeps would otherwise be 1,000 lines. */
export const STATUS_LINEAGE_ROWS = 20;

/**
 * The trials `strata status` lists: every one with `all` or in a short study;
 * otherwise the best trial's lineage (each kept trial it was built on, back to
 * the baseline, found by following parent commits; of a long one its root and
 * newest `STATUS_LINEAGE_ROWS` steps) and the last `STATUS_LAST_ROWS` trials,
 * in order, with a note where trials are left out.
 *
 * @example
 * statusLines(summary.trials, summary.best?.trial ?? null, { all: false });
 * // [{ trial: #0 }, { hidden: 118 }, { trial: #119 }, { hidden: 19870 }, { trial: #19990 }, …]
 */
export function statusLines(trials: readonly TrialRow[], bestSeq: number | null, options: { all: boolean }): StatusLine[] {
  if (options.all || trials.length < STATUS_ALL_BELOW) return trials.map((trial) => ({ trial }));
  const shown = shownTrials(trials, trials.slice(-STATUS_LAST_ROWS), bestSeq);
  return linesOf(
    trials.map((trial) => trial.seq),
    shown,
  );
}

/**
 * The rows a long study shows: of the best's lineage (followed through
 * `kept`, which holds at least every kept trial and the best) its root and
 * newest steps, and the `last` rows. Keyed by trial number.
 */
export function shownTrials(kept: readonly TrialRow[], last: readonly TrialRow[], bestSeq: number | null): Map<number, TrialRow> {
  const shown = new Map<number, TrialRow>(last.map((trial) => [trial.seq, trial]));
  const chain = lineage(kept, bestSeq);
  for (const trial of [...chain.slice(0, STATUS_LINEAGE_ROWS), ...chain.slice(-1)]) shown.set(trial.seq, trial);
  return shown;
}

/** The table's lines: the `shown` rows in the order of `finishedSeqs` (every finished trial's number), a note for each run of the others. */
export function linesOf(finishedSeqs: readonly number[], shown: ReadonlyMap<number, TrialRow>): StatusLine[] {
  const lines: StatusLine[] = [];
  let hidden = 0;
  for (const seq of finishedSeqs) {
    const trial = shown.get(seq);
    if (!trial) {
      hidden++;
      continue;
    }
    if (hidden > 0) lines.push({ hidden });
    hidden = 0;
    lines.push({ trial });
  }
  if (hidden > 0) lines.push({ hidden });
  return lines;
}

/** The best trial and the kept trials under it, newest first: each one's parent commit is the commit an earlier keep made. */
export function lineage<T extends Pick<TrialRow, 'seq' | 'status' | 'commit' | 'parent_commit'>>(trials: readonly T[], bestSeq: number | null): T[] {
  const best = trials.find((trial) => trial.seq === bestSeq);
  if (!best) return [];
  const keptBy = new Map<string, T>();
  for (const trial of trials) if (trial.status === 'keep' && trial.commit !== null && !keptBy.has(trial.commit)) keptBy.set(trial.commit, trial);
  const chain = [best];
  const seen = new Set([best.seq]);
  for (let at = best; at.parent_commit !== null && at.parent_commit !== at.commit; ) {
    const parent = keptBy.get(at.parent_commit);
    if (!parent || seen.has(parent.seq)) break;
    chain.push(parent);
    seen.add(parent.seq);
    at = parent;
  }
  return chain;
}
