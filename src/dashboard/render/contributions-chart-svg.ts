import type { ComparisonView, ContributionView, VerifyView } from '../views/verify-view.ts';
import { linearScale, tickLabel } from './chart-scale.ts';
import { formatMetric } from './format.ts';
import { h, type Markup } from './markup.ts';
import { GRID, INK, MUTED, STATUS_COLORS } from './status-colors.ts';

export interface ContributionsChartOptions {
  title: string;
  width?: number;
  /** Draw the title line (default true); a report's card already has one. */
  showTitle?: boolean;
}

const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif';
const ROW = 30;
const OVERALL_COLOR = '#0969da';
const VERDICT: Record<ContributionView['verdict'], { text: string; color: string }> = {
  needed: { text: 'needed', color: STATUS_COLORS.keep! },
  'not-needed': { text: 'not needed', color: STATUS_COLORS.discard! },
  harmful: { text: 'harmful', color: STATUS_COLORS.crash! },
  conflict: { text: 'conflict', color: STATUS_COLORS.timeout! },
  unmeasured: { text: 'not measured yet', color: MUTED },
};

/**
 * The contributions chart of a verify as a standalone SVG (a forest plot):
 * one row per kept change with its leave-one-out contribution (the best
 * minus the best without it) as a dot on its 95% interval, on one axis where
 * right is better whatever the metric's direction; a zero line (no effect);
 * changes within the noise drawn grey and dashed and labelled *not needed*;
 * and below a rule the best's (and the finalized branch's) improvement over
 * the baseline with its interval. Each row is a `g` of class `contribution`
 * (`data-seq`, `data-verdict`) or `overall`/`final`, its interval a `line` of
 * class `interval` and its estimate a `circle` of class `estimate`. Every
 * description is escaped (it is text an agent wrote).
 *
 * @example
 * writeFileSync('contributions.svg', contributionsChartSvg(verifyView(reader, study)!, { title: 'tiny-lm' }).html);
 */
export function contributionsChartSvg(view: VerifyView, options: ContributionsChartOptions): Markup {
  const showTitle = options.showTitle ?? true;
  const width = options.width ?? 960;
  const labelWidth = 270;
  const valueWidth = 290;
  const top = showTitle ? 78 : 52;
  const plot = { left: labelWidth, right: width - valueWidth };
  const summary = [
    { kind: 'overall' as const, label: `best${view.best_seq === null ? '' : ` #${view.best_seq}`} vs baseline`, comparison: view.overall },
    ...(view.final ? [{ kind: 'final' as const, label: `final branch vs baseline${view.final.complete ? '' : ' (partial)'}`, comparison: view.final as ComparisonView }] : []),
  ];
  const rowsHeight = Math.max(1, view.contributions.length) * ROW;
  const ruleY = top + rowsHeight + 8;
  const summaryTop = ruleY + 8;
  const bottom = summaryTop + summary.length * ROW;
  const height = bottom + 62;

  const compared = [...view.contributions.map((item) => item.comparison), ...summary.map((item) => item.comparison)].filter((item): item is ComparisonView => item !== null);
  const x = linearScale([0, ...compared.flatMap((item) => item.interval)], [plot.left + 10, plot.right - 10], { pad: 0.05, count: 6 });
  const rowY = (index: number, from: number) => from + index * ROW + ROW / 2;

  const interval = (comparison: ComparisonView, y: number, color: string, dashed: boolean, hollow: boolean): Markup[] => {
    const [low, high] = comparison.interval;
    return [
      h('line', { class: 'interval', x1: round(x(low)), x2: round(x(high)), y1: y, y2: y, stroke: color, 'stroke-width': 3, 'stroke-linecap': 'round', 'stroke-dasharray': dashed ? '6 4' : null }),
      h('line', { x1: round(x(low)), x2: round(x(low)), y1: y - 6, y2: y + 6, stroke: color, 'stroke-width': 2 }),
      h('line', { x1: round(x(high)), x2: round(x(high)), y1: y - 6, y2: y + 6, stroke: color, 'stroke-width': 2 }),
      h('circle', { class: 'estimate', cx: round(x(comparison.improvement)), cy: y, r: 5.5, fill: hollow ? '#fff' : color, stroke: color, 'stroke-width': 2 }),
    ];
  };

  const rows = view.contributions.map((item, index) => {
    const y = rowY(index, top);
    const verdict = VERDICT[item.verdict];
    const faded = item.verdict === 'not-needed' || item.verdict === 'unmeasured';
    const label = `#${item.seq} ${item.description || '(no description)'}`;
    return h(
      'g',
      { class: 'contribution', 'data-seq': item.seq, 'data-verdict': item.verdict },
      h('title', null, `${label}\n${item.comparison ? describe(item.comparison) : item.conflict ?? 'not measured yet'} — ${verdict.text}`),
      h('text', { x: 12, y: y + 4, fill: faded ? MUTED : INK, 'text-decoration': item.verdict === 'not-needed' ? 'line-through' : null }, truncate(label, 40)),
      item.comparison
        ? interval(item.comparison, y, verdict.color, item.verdict === 'not-needed', faded)
        : h('text', { class: 'no-interval', x: (plot.left + plot.right) / 2, y: y + 4, 'text-anchor': 'middle', fill: verdict.color, stroke: '#fff', 'stroke-width': 4, 'paint-order': 'stroke' }, item.conflict ? truncate(`inverse diff conflicts: ${item.conflict}`, 60) : 'not measured yet'),
      h('text', { x: plot.right + 12, y: y + 4, fill: INK, 'font-variant-numeric': 'tabular-nums' }, item.comparison ? short(item.comparison) : '–'),
      h('text', { class: 'verdict', x: width - 12, y: y + 4, 'text-anchor': 'end', fill: verdict.color, 'font-weight': item.verdict === 'needed' ? 600 : null }, verdict.text),
    );
  });
  const stripes = view.contributions.map((_item, index) => (index % 2 === 1 ? h('rect', { x: 0, y: top + index * ROW, width, height: ROW, fill: '#f6f8fa' }) : null));
  if (view.contributions.length === 0) rows.push(h('text', { x: 12, y: rowY(0, top) + 4, fill: MUTED }, 'no kept change to leave out'));

  const summaryRows = summary.map((item, index) => {
    const y = rowY(index, summaryTop);
    return h(
      'g',
      { class: item.kind },
      h('title', null, `${item.label}: ${item.comparison ? describe(item.comparison) : 'not enough runs yet'}`),
      h('text', { x: 12, y: y + 4, fill: INK, 'font-weight': 600 }, item.label),
      item.comparison ? interval(item.comparison, y, OVERALL_COLOR, false, false) : h('text', { x: (plot.left + plot.right) / 2, y: y + 4, 'text-anchor': 'middle', fill: MUTED, stroke: '#fff', 'stroke-width': 4, 'paint-order': 'stroke' }, 'not enough runs yet'),
      h('text', { x: plot.right + 12, y: y + 4, fill: INK, 'font-weight': 600, 'font-variant-numeric': 'tabular-nums' }, item.comparison ? short(item.comparison) : '–'),
      h('text', { x: width - 12, y: y + 4, 'text-anchor': 'end', fill: MUTED }, item.comparison ? pLabel(item.comparison.p_value) : ''),
    );
  });

  const better = view.metric.goal === 'minimize' ? 'lower' : 'higher';
  const runs = `${view.repeats} interleaved runs per arm${view.complete ? '' : ` · partial: ${view.runs.done} of ${view.runs.planned} runs`}`;
  const zero = x(0);
  return h(
    'svg',
    {
      xmlns: 'http://www.w3.org/2000/svg',
      viewBox: `0 0 ${width} ${height}`,
      width,
      height,
      role: 'img',
      'aria-label': `${options.title}: contribution of each kept change to ${view.metric.name}, with 95% intervals`,
      'font-family': FONT,
      'font-size': 12,
      'data-verify': view.verify_id,
      'data-complete': String(view.complete),
    },
    h('rect', { width, height, fill: '#fff' }),
    stripes,
    showTitle ? h('text', { x: 12, y: 22, fill: INK, 'font-size': 15, 'font-weight': 600 }, `${options.title}: what each kept change contributes`) : null,
    h('text', { x: 12, y: top - 30, fill: MUTED }, `improvement in ${view.metric.name} (${better} is better; right = better), 95% Welch t intervals · ${runs}`),
    h('text', { x: plot.right + 12, y: top - 10, fill: MUTED }, 'effect [interval]'),
    h('text', { x: 12, y: top - 10, fill: MUTED }, 'kept change (leave-one-out: the best minus the best without it)'),
    x.ticks.map((tick) =>
      h('g', null,
        h('line', { x1: round(x(tick)), x2: round(x(tick)), y1: top - 4, y2: bottom, stroke: GRID }),
        h('text', { x: round(x(tick)), y: bottom + 16, 'text-anchor': 'middle', fill: MUTED }, tickLabel(tick)),
      ),
    ),
    // Under the rows, so a row's text (a conflict) reads across it.
    h('line', { class: 'zero', x1: round(zero), x2: round(zero), y1: top - 4, y2: bottom, stroke: INK, 'stroke-width': 1.5 }),
    rows,
    h('line', { x1: 0, x2: width, y1: ruleY, y2: ruleY, stroke: '#d0d7de' }),
    summaryRows,
    h('text', { x: round(zero), y: bottom + 32, 'text-anchor': 'middle', fill: INK }, 'no effect'),
    h('text', { x: 12, y: bottom + 52, fill: MUTED }, '● estimate · bar: 95% interval · grey, dashed: not needed (within the noise)'),
  );
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

/** Three significant digits: enough beside an interval, short enough for the column. */
function compact(value: number): string {
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude < 1e-3 || magnitude >= 1e6)) return value.toExponential(2);
  return String(Number(value.toPrecision(3)));
}

function short(comparison: ComparisonView): string {
  const value = comparison.improvement;
  return `${value > 0 ? '+' : value < 0 ? '−' : '±'}${compact(Math.abs(value))} [${compact(comparison.interval[0])}, ${compact(comparison.interval[1])}]`;
}

function pLabel(p: number): string {
  return p < 0.001 ? 'p<0.001' : `p=${p < 0.01 ? p.toFixed(3) : p.toFixed(2)}`;
}

function describe(comparison: ComparisonView): string {
  return `${comparison.improvement >= 0 ? '+' : '−'}${formatMetric(Math.abs(comparison.improvement))} [${formatMetric(comparison.interval[0])}, ${formatMetric(comparison.interval[1])}] (${Math.round(comparison.confidence * 100)}% Welch t, df ${comparison.df === null ? '∞' : comparison.df.toFixed(1)}, ${pLabel(comparison.p_value)}; ${comparison.runs[0]} and ${comparison.runs[1]} runs)`;
}

function truncate(text: string, length: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= length ? line : `${line.slice(0, length - 1)}…`;
}
