// A live update of the progress chart: the server sends the points of the trials that changed since the
// page's cursor (GET /api/studies/:id/summary?since=N), and they are merged into the columns the page
// holds, so a study of 20,000 trials does not resend its chart every second.

/** Past this many points the page asks for the whole (thinned) chart again instead of merging. */
export const MERGE_LIMIT = 6000;

/**
 * `progress` with `points` (finished trials: seq, status, metric, holdout,
 * description, reason) put in their place by trial number, and the running
 * best recomputed (it moves only at keeps, and every keep is in the columns).
 */
export function mergeProgress(progress, points, total) {
  const rows = progress.seq.map((seq, i) => ({
    seq,
    status: progress.status[i],
    metric: progress.kept[i] ?? progress.discarded[i] ?? null,
    holdout: progress.holdout[i],
    description: progress.description?.[i] ?? '',
    reason: progress.reason?.[i] ?? null,
  }));
  const at = new Map(rows.map((row, i) => [row.seq, i]));
  for (const point of points) {
    const row = { seq: point.seq, status: point.status, metric: point.metric, holdout: point.holdout, description: point.description, reason: point.status === 'keep' || point.status === 'discard' ? null : point.reason };
    if (at.has(point.seq)) rows[at.get(point.seq)] = row;
    else rows.push(row);
  }
  rows.sort((a, b) => a.seq - b.seq);
  const next = { seq: [], status: [], kept: [], discarded: [], best: [], holdout: [], failed: [], description: [], reason: [], points: rows.length, total: Math.max(total ?? 0, rows.length), thinned: progress.thinned };
  let best = null;
  for (const row of rows) {
    const usable = row.metric !== null && Number.isFinite(row.metric);
    const kept = row.status === 'keep' && usable;
    if (kept) best = row.metric;
    next.seq.push(row.seq);
    next.status.push(row.status);
    next.kept.push(kept ? row.metric : null);
    next.discarded.push(!kept && usable ? row.metric : null);
    next.failed.push(usable ? null : 1);
    next.best.push(best);
    next.holdout.push(row.holdout !== null && Number.isFinite(row.holdout) ? row.holdout : null);
    next.description.push(row.description);
    next.reason.push(row.reason);
  }
  return next;
}
