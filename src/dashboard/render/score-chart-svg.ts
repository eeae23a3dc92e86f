import type { EvolveView } from '../views/evolve-view.ts';
import { linearScale, tickLabel } from './chart-scale.ts';
import { formatMetric } from './format.ts';
import { h, type Markup } from './markup.ts';
import { GRID, INK, MUTED, STATUS_COLORS } from './status-colors.ts';

const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif';

/**
 * Best validation mean against metric calls spent, as a standalone SVG: every
 * pool candidate as a faded dot where it joined, the best as a step line.
 *
 * @example
 * writeFileSync('scores.svg', scoreChartSvg(view, 'support-triage').html);
 */
export function scoreChartSvg(view: Pick<EvolveView, 'candidates' | 'progress' | 'metric_calls'>, title: string): Markup {
  const width = 960;
  const height = 340;
  const margin = { top: 44, right: 24, bottom: 50, left: 64 };
  const joined = view.candidates.filter((candidate) => candidate.val_mean !== null);
  const maxCalls = Math.max(1, view.metric_calls.used, ...joined.map((candidate) => candidate.found_at ?? 0));
  const x = linearScale([0, maxCalls], [margin.left + 8, width - margin.right - 8], { count: 8 });
  const y = linearScale(joined.map((candidate) => candidate.val_mean), [height - margin.bottom - 8, margin.top + 8], { pad: 0.06 });
  let path = '';
  view.progress.calls.forEach((calls, index) => {
    const px = x(calls).toFixed(1);
    const py = y(view.progress.best[index]!).toFixed(1);
    path += path === '' ? `M${px},${py}` : `H${px}V${py}`;
  });
  if (path) path += `H${x(view.metric_calls.used).toFixed(1)}`;
  return h(
    'svg',
    { xmlns: 'http://www.w3.org/2000/svg', viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-label': `${title}: best validation score against metric calls`, 'font-family': FONT, 'font-size': 12 },
    h('rect', { width, height, fill: '#fff' }),
    h('text', { x: margin.left, y: 22, fill: INK, 'font-size': 15, 'font-weight': 600 }, title),
    h('text', { x: width - margin.right, y: 22, fill: MUTED, 'text-anchor': 'end' }, `best validation mean · ${view.metric_calls.used} metric calls${view.metric_calls.budget ? ` of ${view.metric_calls.budget}` : ''}`),
    y.ticks.map((tick) =>
      h('g', null,
        h('line', { x1: margin.left, x2: width - margin.right, y1: y(tick), y2: y(tick), stroke: GRID }),
        h('text', { x: margin.left - 8, y: y(tick) + 4, 'text-anchor': 'end', fill: MUTED }, tickLabel(tick)),
      ),
    ),
    x.ticks.map((tick) => h('text', { x: x(tick), y: height - margin.bottom + 20, 'text-anchor': 'middle', fill: MUTED }, tickLabel(tick))),
    h('text', { x: (margin.left + width - margin.right) / 2, y: height - 8, 'text-anchor': 'middle', fill: MUTED }, 'metric calls'),
    path ? h('path', { d: path, fill: 'none', stroke: STATUS_COLORS.keep, 'stroke-width': 2 }) : null,
    joined.map((candidate) =>
      h('circle', { class: 'point', cx: x(candidate.found_at ?? 0), cy: y(candidate.val_mean!), r: view.progress.idx.includes(candidate.idx) ? 5 : 3.5, fill: view.progress.idx.includes(candidate.idx) ? STATUS_COLORS.keep : STATUS_COLORS.discard, 'fill-opacity': view.progress.idx.includes(candidate.idx) ? 1 : 0.6 },
        h('title', null, `#${candidate.idx} ${candidate.origin}: val ${formatMetric(candidate.val_mean)} at ${candidate.found_at ?? 0} calls`),
      ),
    ),
  );
}
