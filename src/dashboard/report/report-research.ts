import { formatDelta, formatMetric, formatPercent, formatSeconds, formatUsd } from '../render/format.ts';
import { h, type Markup } from '../render/markup.ts';
import { progressChartSvg } from '../render/progress-chart-svg.ts';
import type { ResearchView } from '../views/research-view.ts';
import { badge, card, diffBlock, stat, table } from './report-parts.ts';

const signed = (value: number | null) => (value === null ? '–' : `${value > 0 ? '+' : value < 0 ? '−' : ''}${Math.abs(value).toFixed(2)}%`);

/** The progress chart of a research study as SVG (also what `strata plot` writes). */
export function researchProgressSvg(view: ResearchView, showTitle = true): Markup {
  return progressChartSvg(view.progress, {
    showTitle,
    title: view.study.name,
    metric: view.metric.name,
    goal: view.metric.goal,
    descriptions: view.trials.map((trial) => trial.description),
  });
}

/** The headline numbers, as label/value/note triples (HTML cards and Markdown bullets). */
export function researchHeadline(view: ResearchView): [string, string, string | null][] {
  const { best, baseline, counts } = view;
  const failed = (counts.crash ?? 0) + (counts.timeout ?? 0) + (counts.invalid ?? 0);
  return [
    [`best ${view.metric.name}`, formatMetric(best?.metric), best ? `trial #${best.seq}${best.commit ? ` · ${best.commit.slice(0, 8)}` : ''}` : 'no kept trial'],
    ['vs baseline', signed(view.improvement_pct), baseline ? `baseline ${formatMetric(baseline.metric)}` : null],
    ...(view.has_holdout && best ? [[`holdout ${view.metric.name}`, formatMetric(best.holdout), 'of the best'] as [string, string, string]] : []),
    ['trials', String(view.trials.length), `${counts.keep ?? 0} kept · ${counts.discard ?? 0} discarded · ${failed} failed`],
    ['trial time', formatSeconds(view.total_time_s), view.duty ? `duty cycle ${formatPercent(view.duty.fraction, 0)}` : null],
    ['spend', formatUsd(view.spend.usd), view.spend.calls ? `${view.spend.calls} LLM calls` : 'no LLM calls'],
  ];
}

/** The research sections of the HTML report. */
export function researchReportBody(view: ResearchView, diffs: ReadonlyMap<number, string | null>): (Markup | null)[] {
  const headline = researchHeadline(view);
  const rows = view.trials.map((trial) => ({
    class: `st-${trial.status}`,
    cells: [
      `#${trial.seq}`,
      badge(trial.status),
      formatMetric(trial.metric),
      formatDelta(trial.delta),
      ...(view.has_holdout ? [formatMetric(trial.holdout)] : []),
      formatSeconds(trial.duration_s),
      trial.usd ? formatUsd(trial.usd) : '–',
      trial.proposer,
      [
        trial.description,
        trial.reason && trial.status !== 'keep' && trial.status !== 'discard' ? h('div', { class: 'reason' }, trial.reason) : null,
        trial.flags.map((flag) => h('div', { class: 'flag' }, `⚠ ${flag}`)),
      ],
    ],
  }));
  const titles = ['#', 'status', `${view.metric.name}#`, 'Δ best#', ...(view.has_holdout ? ['holdout#'] : []), 'time#', 'cost#', 'proposer', 'description'];
  const kept = view.trials.filter((trial) => trial.status === 'keep' && trial.role !== 'baseline');
  return [
    h('div', { class: 'stats' }, headline.map(([label, value, note], index) => stat(label, value, note, index === 1 && (view.improvement_pct ?? 0) > 0))),
    card(`Progress · ${view.metric.name} (${view.metric.goal === 'minimize' ? 'lower' : 'higher'} is better)`, h('div', { class: 'figure' }, researchProgressSvg(view, false))),
    card(`Trials (${view.trials.length})`, table(titles, rows)),
    card(
      `Kept changes (${kept.length})`,
      kept.length === 0 ? h('p', { class: 'muted' }, 'No change beat the baseline.') : null,
      kept.map((trial) =>
        h(
          'details',
          { id: `trial-${trial.seq}` },
          h('summary', null, h('strong', null, `#${trial.seq}`), ` ${formatMetric(trial.metric)} (${formatDelta(trial.delta)}) — `, trial.description),
          diffs.get(trial.seq) ? diffBlock(diffs.get(trial.seq)!) : h('p', { class: 'muted' }, 'no diff recorded'),
        ),
      ),
    ),
    view.spend.by_role.length
      ? card('LLM spend', table(['role', 'calls#', 'USD#'], view.spend.by_role.map((role) => ({ cells: [role.role, String(role.calls), formatUsd(role.usd)] }))))
      : null,
  ];
}
