import type { MetricGoal } from '../../core/trial.ts';
import type { ProgressSeries } from '../views/progress-series.ts';
import { linearScale, tickLabel } from './chart-scale.ts';
import { formatMetric } from './format.ts';
import { h, type Markup } from './markup.ts';
import { GRID, HOLDOUT_COLOR, INK, MUTED, STATUS_COLORS, statusColor } from './status-colors.ts';

export interface ProgressChartOptions {
  title: string;
  metric: string;
  goal: MetricGoal;
  /** Trial descriptions by position, for the hover titles. */
  descriptions?: readonly string[];
  width?: number;
  height?: number;
  /** Draw the title line (default true); a report's card already has one. */
  showTitle?: boolean;
}

const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif';

/**
 * The autoresearch progress chart as a standalone SVG: every trial's metric
 * against trial number, kept trials green and joined by the running-best
 * step line, discards faded, trials without a metric marked under the axis,
 * holdout (when measured) in orange. Each trial is one element of class
 * `point` carrying `data-seq` and `data-status`.
 *
 * @example
 * writeFileSync('progress.svg', progressChartSvg(view.progress, { title: 'tiny-lm', metric: 'val_bpb', goal: 'minimize' }).html);
 */
export function progressChartSvg(series: ProgressSeries, options: ProgressChartOptions): Markup {
  const showTitle = options.showTitle ?? true;
  const width = options.width ?? 960;
  const height = options.height ?? (showTitle ? 380 : 354);
  const margin = { top: showTitle ? 56 : 30, right: 24, bottom: 64, left: 72 };
  const plotBottom = height - margin.bottom;
  const values = [...series.kept, ...series.discarded, ...series.holdout];
  const y = linearScale(values, [plotBottom - 8, margin.top + 8], { pad: 0.04 });
  const lastSeq = series.seq.length ? Math.max(...series.seq) : 1;
  const x = linearScale([0, Math.max(1, lastSeq)], [margin.left + 12, width - margin.right - 12], { count: 10 });
  const xTicks = x.ticks.filter((tick) => Number.isInteger(tick));
  const failY = plotBottom + 20;

  const grid = [
    ...y.ticks.map((tick) =>
      h('g', null,
        h('line', { x1: margin.left, x2: width - margin.right, y1: y(tick), y2: y(tick), stroke: GRID }),
        h('text', { x: margin.left - 8, y: y(tick) + 4, 'text-anchor': 'end', fill: MUTED }, tickLabel(tick)),
      ),
    ),
    ...xTicks.map((tick) => h('text', { x: x(tick), y: plotBottom + 44, 'text-anchor': 'middle', fill: MUTED }, String(tick))),
  ];

  // Running best: a step that moves only at kept trials.
  let path = '';
  series.best.forEach((best, index) => {
    if (best === null) return;
    const px = x(series.seq[index]!).toFixed(1);
    const py = y(best).toFixed(1);
    path += path === '' ? `M${px},${py}` : `H${px}V${py}`;
  });
  if (path !== '' && series.seq.length) path += `H${x(lastSeq).toFixed(1)}`;

  const holdoutPoints = series.holdout
    .map((value, index) => (value === null ? null : `${x(series.seq[index]!).toFixed(1)},${y(value).toFixed(1)}`))
    .filter((point): point is string => point !== null);

  const points = series.seq.map((seq, index) => {
    const status = series.status[index]!;
    const title = `#${seq} ${status}${pointValue(series, index)}${options.descriptions?.[index] ? ` — ${options.descriptions[index]}` : ''}`;
    const common = { class: 'point', 'data-seq': seq, 'data-status': status };
    const kept = series.kept[index];
    const discarded = series.discarded[index];
    if (kept !== null && kept !== undefined) {
      return h('circle', { ...common, cx: x(seq), cy: y(kept), r: 5, fill: STATUS_COLORS.keep, stroke: '#fff', 'stroke-width': 1.5 }, h('title', null, title));
    }
    if (discarded !== null && discarded !== undefined) {
      return h('circle', { ...common, cx: x(seq), cy: y(discarded), r: 3.5, fill: statusColor(status), 'fill-opacity': 0.55 }, h('title', null, title));
    }
    const px = x(seq);
    return h('path', { ...common, d: `M${px - 4},${failY - 4}L${px + 4},${failY + 4}M${px - 4},${failY + 4}L${px + 4},${failY - 4}`, stroke: statusColor(status), 'stroke-width': 2 }, h('title', null, title));
  });

  const legendItems: [string, Markup][] = [
    ['kept', h('circle', { cx: 6, cy: -4, r: 5, fill: STATUS_COLORS.keep })],
    ['discarded', h('circle', { cx: 6, cy: -4, r: 3.5, fill: STATUS_COLORS.discard, 'fill-opacity': 0.55 })],
    ['best so far', h('line', { x1: 0, x2: 14, y1: -4, y2: -4, stroke: STATUS_COLORS.keep, 'stroke-width': 2 })],
  ];
  if (series.failed.some((value) => value !== null)) {
    legendItems.push(['crash / timeout / invalid', h('path', { d: 'M2,-8L10,0M2,0L10,-8', stroke: STATUS_COLORS.crash, 'stroke-width': 2 })]);
  }
  if (holdoutPoints.length) legendItems.push(['holdout', h('rect', { x: 2, y: -8, width: 8, height: 8, fill: HOLDOUT_COLOR, transform: 'rotate(45 6 -4)' })]);
  let legendX = margin.left;
  const legend = legendItems.map(([label, icon]) => {
    const item = h('g', { transform: `translate(${legendX},${margin.top - 18})` }, icon, h('text', { x: 20, y: 0, fill: INK }, label));
    legendX += 34 + label.length * 7;
    return item;
  });

  const better = options.goal === 'minimize' ? 'lower is better' : 'higher is better';
  return h(
    'svg',
    { xmlns: 'http://www.w3.org/2000/svg', viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-label': `${options.title}: ${options.metric} per trial`, 'font-family': FONT, 'font-size': 12, 'data-points': series.points },
    h('rect', { width, height, fill: '#fff' }),
    showTitle ? h('text', { x: margin.left, y: 22, fill: INK, 'font-size': 15, 'font-weight': 600 }, options.title) : null,
    showTitle ? h('text', { x: width - margin.right, y: 22, fill: MUTED, 'text-anchor': 'end' }, `${series.points} trials · ${options.metric} (${better})`) : null,
    grid,
    h('line', { x1: margin.left, x2: width - margin.right, y1: plotBottom, y2: plotBottom, stroke: '#d0d7de' }),
    h('text', { x: (margin.left + width - margin.right) / 2, y: height - 6, 'text-anchor': 'middle', fill: MUTED }, 'trial'),
    h('text', { x: 16, y: (margin.top + plotBottom) / 2, 'text-anchor': 'middle', fill: MUTED, transform: `rotate(-90 16 ${(margin.top + plotBottom) / 2})` }, options.metric),
    path ? h('path', { d: path, fill: 'none', stroke: STATUS_COLORS.keep, 'stroke-width': 2, 'stroke-opacity': 0.85 }) : null,
    holdoutPoints.length > 1 ? h('polyline', { points: holdoutPoints.join(' '), fill: 'none', stroke: HOLDOUT_COLOR, 'stroke-width': 1.5, 'stroke-dasharray': '4 3' }) : null,
    holdoutPoints.map((point) => {
      const [px, py] = point.split(',').map(Number) as [number, number];
      return h('rect', { x: px - 4, y: py - 4, width: 8, height: 8, fill: HOLDOUT_COLOR, transform: `rotate(45 ${px} ${py})` });
    }),
    points,
    legend,
  );
}

function pointValue(series: ProgressSeries, index: number): string {
  const value = series.kept[index] ?? series.discarded[index];
  const holdout = series.holdout[index];
  return `${value === null || value === undefined ? '' : ` ${formatMetric(value)}`}${holdout === null || holdout === undefined ? '' : ` (holdout ${formatMetric(holdout)})`}`;
}
