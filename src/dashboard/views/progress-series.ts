/** The fields of a trial the progress chart needs. */
export interface ProgressInput {
  seq: number;
  status: string;
  metric: number | null;
  holdout: number | null;
}

/**
 * The progress chart as columns, one entry per finished trial: the metric of
 * kept and discarded trials apart, the running best (a step line through the
 * kept trials), holdout where measured, and the trials that produced no
 * metric (crash, timeout, invalid, interrupted) as markers.
 */
export interface ProgressSeries {
  seq: number[];
  status: string[];
  kept: (number | null)[];
  discarded: (number | null)[];
  best: (number | null)[];
  holdout: (number | null)[];
  /** 1 where the trial ended without a usable metric; drawn as a marker on the axis. */
  failed: (number | null)[];
  /** How many points the chart draws: one per trial. */
  points: number;
}

/**
 * Build the progress columns from finished trials in order.
 *
 * @example
 * progressSeries([{ seq: 0, status: 'keep', metric: 2.1, holdout: null }]).best; // [2.1]
 */
export function progressSeries(trials: readonly ProgressInput[]): ProgressSeries {
  const series: ProgressSeries = { seq: [], status: [], kept: [], discarded: [], best: [], holdout: [], failed: [], points: 0 };
  let best: number | null = null;
  for (const trial of trials) {
    const usable = trial.metric !== null && Number.isFinite(trial.metric);
    const kept = trial.status === 'keep' && usable;
    // The best moves only on a keep: the acceptance rule, not the raw number, decides what counts.
    if (kept) best = trial.metric;
    series.seq.push(trial.seq);
    series.status.push(trial.status);
    series.kept.push(kept ? trial.metric : null);
    series.discarded.push(!kept && usable ? trial.metric : null);
    series.failed.push(usable ? null : 1);
    series.best.push(best);
    series.holdout.push(trial.holdout !== null && Number.isFinite(trial.holdout) ? trial.holdout : null);
    series.points++;
  }
  return series;
}
