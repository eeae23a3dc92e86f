import { formatDelta, formatMetric, formatUsd } from '../render/format.ts';
import { frontHeatmapSvg } from '../render/front-heatmap-svg.ts';
import { lineageSvg } from '../render/lineage-svg.ts';
import { h, type Markup } from '../render/markup.ts';
import { scoreChartSvg } from '../render/score-chart-svg.ts';
import type { EvolveView } from '../views/evolve-view.ts';
import { unifiedDiff } from '../views/line-diff.ts';
import { badge, card, diffBlock, stat, table } from './report-parts.ts';

/** Components of each candidate by pool index, for the best's text and the diffs. */
export type ComponentsByIdx = ReadonlyMap<number, Readonly<Record<string, string>>>;

/** The evolve headline numbers as label/value/note triples. */
export function evolveHeadline(view: EvolveView): [string, string, string | null][] {
  const seed = view.seed?.val_mean ?? null;
  const best = view.best?.val_mean ?? null;
  const gain = best !== null && seed !== null && seed !== 0 ? ((best - seed) / Math.abs(seed)) * 100 : null;
  return [
    ['best validation', formatMetric(best), view.best ? `candidate #${view.best.idx}` : null],
    ['vs seed', gain !== null ? `${gain > 0 ? '+' : gain < 0 ? '−' : ''}${Math.abs(gain).toFixed(2)}%` : best !== null && seed !== null ? formatDelta(best - seed) || '±0' : '–', `seed ${formatMetric(seed)}`],
    ...(view.best?.test_mean != null ? [['held-out test', formatMetric(view.best.test_mean), `seed ${formatMetric(view.seed?.test_mean)}`] as [string, string, string]] : []),
    ['pool', String(view.candidates.length), `${view.proposals.filter((p) => p.accepted).length} accepted of ${view.proposals.length} proposals`],
    ['metric calls', String(view.metric_calls.used), view.metric_calls.budget ? `of ${view.metric_calls.budget}` : null],
    ['spend', formatUsd(view.spend.usd), view.spend.calls ? `${view.spend.calls} LLM calls` : 'no LLM calls'],
  ];
}

/** The charts of an evolve study as standalone SVGs, by file stem. */
export function evolveFigures(view: EvolveView, link: (idx: number) => string): Record<string, Markup> {
  return {
    scores: scoreChartSvg(view, view.study.name),
    lineage: lineageSvg(view.candidates, view.best?.idx ?? null, link),
    front: frontHeatmapSvg(view, link),
  };
}

/** The evolve sections of the HTML report. */
export function evolveReportBody(view: EvolveView, components: ComponentsByIdx): (Markup | null)[] {
  const figures = evolveFigures(view, (idx) => `#candidate-${idx}`);
  const headline = evolveHeadline(view);
  const best = view.best ? components.get(view.best.idx) : undefined;
  return [
    h('div', { class: 'stats' }, headline.map(([label, value, note], index) => stat(label, value, note, index === 1 && value.startsWith('+')))),
    card('Best validation score against metric calls', h('div', { class: 'figure' }, figures.scores)),
    card('Lineage', h('div', { class: 'figure' }, figures.lineage)),
    card('Pareto front · candidates × validation examples', h('div', { class: 'figure' }, figures.front)),
    best ? card(`Best candidate #${view.best!.idx}`, Object.entries(best).map(([name, text]) => [h('h3', { class: 'mono' }, name), h('pre', null, text)])) : h('span', null),
    card(
      `Candidates (${view.candidates.length})`,
      table(
        ['#', 'origin', 'parents', 'val mean#', 'front#', 'test#', 'found at#', 'description'],
        [...view.candidates]
          .sort((a, b) => (b.val_mean ?? -Infinity) - (a.val_mean ?? -Infinity))
          .map((c) => ({ cells: [`#${c.idx}`, c.origin, c.parents.map((p) => `#${p}`).join(' + ') || '–', formatMetric(c.val_mean), String(c.front_count), formatMetric(c.test_mean), String(c.found_at ?? '–'), c.description] })),
      ),
      view.candidates
        .filter((c) => c.parents.length > 0)
        .map((c) => {
          const parent = components.get(c.parents[0]!) ?? {};
          const own = components.get(c.idx) ?? {};
          const diffs = Object.keys({ ...parent, ...own }).map((name) => unifiedDiff(parent[name] ?? '', own[name] ?? '', name)).filter(Boolean);
          return h('details', { id: `candidate-${c.idx}` }, h('summary', null, h('strong', null, `#${c.idx}`), ` from #${c.parents.join(' + #')} · val ${formatMetric(c.val_mean)} — `, c.description), diffs.map(diffBlock));
        }),
    ),
    card(
      `Proposals (${view.proposals.length})`,
      view.proposals.map((p) =>
        h(
          'details',
          null,
          h('summary', null, `iteration ${p.iteration} `, badge(p.outcome), ` #${p.parent ?? '–'} → ${p.child === null ? 'none' : `#${p.child}`}${p.component ? ` · ${p.component}` : ''}${p.parent_score !== null ? ` · minibatch ${formatMetric(p.parent_score)} → ${formatMetric(p.child_score)}` : ''} — `, p.detail),
          p.reflections.map((r) => [h('div', { class: 'muted' }, `reflection attempt ${r.attempt}${r.reason ? ` — refused: ${r.reason}` : ''}`), h('pre', null, r.reply)]),
        ),
      ),
    ),
  ];
}
