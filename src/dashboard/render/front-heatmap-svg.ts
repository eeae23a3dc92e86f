import type { EvolveView } from '../views/evolve-view.ts';
import { formatMetric } from './format.ts';
import { scoreColor } from './lineage-svg.ts';
import { h, type Markup } from './markup.ts';
import { INK, MUTED } from './status-colors.ts';

/** Most candidate rows the heatmap draws, and most cells (a wide front gets fewer rows, never under 20). */
export const FRONT_ROWS = 60;
export const FRONT_CELLS = 6000;

/** Wider than this, the page shows the figure at its size in a scrolling box (style.css). */
const WIDE = 1400;

const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif';

/**
 * The per-example Pareto front as a heatmap: one row per candidate (best
 * validation mean first), one column per validation example, shaded by
 * score; a dot marks each example where the candidate holds the best score.
 *
 * @example
 * frontHeatmapSvg(view, (idx) => `/study/1/candidate/${idx}`).html;
 */
export function frontHeatmapSvg(view: Pick<EvolveView, 'candidates' | 'front'>, link: (idx: number) => string, rowLimit = FRONT_ROWS): Markup {
  const { examples, scores, holds } = view.front;
  const maxRows = Math.min(rowLimit, Math.max(20, Math.floor(FRONT_CELLS / Math.max(1, examples.length))));
  const scored = view.candidates.map((candidate, row) => ({ candidate, row })).filter(({ row }) => scores[row]?.some((score) => score !== null));
  // A large pool shows the candidates that hold the most of the front (and the best): 2,000 rows help no reader.
  const bestIdx = scored.reduce<(typeof scored)[number] | null>((top, entry) => (top === null || (entry.candidate.val_mean ?? -Infinity) > (top.candidate.val_mean ?? -Infinity) ? entry : top), null)?.candidate.idx;
  const chosen =
    scored.length <= maxRows
      ? scored
      : [...scored]
          .sort((a, b) => Number(b.candidate.idx === bestIdx) - Number(a.candidate.idx === bestIdx) || b.candidate.front_count - a.candidate.front_count || (b.candidate.val_mean ?? -Infinity) - (a.candidate.val_mean ?? -Infinity) || a.candidate.idx - b.candidate.idx)
          .slice(0, maxRows);
  const order = chosen.sort((a, b) => (b.candidate.val_mean ?? -Infinity) - (a.candidate.val_mean ?? -Infinity) || a.candidate.idx - b.candidate.idx);
  // Min and max by a loop: spread arguments overflow the stack at 400,000 scores.
  let low = 0;
  let high = 1;
  for (const row of scores) for (const score of row) if (score !== null) [low, high] = [Math.min(low, score), Math.max(high, score)];
  const cell = Math.max(8, Math.min(26, Math.floor(760 / Math.max(1, examples.length))));
  const rowHeight = 22;
  const labelWidth = 118;
  const top = examples.length * cell > 760 ? 16 : 74;
  const width = Math.max(560, labelWidth + examples.length * cell + 70);
  const height = top + order.length * rowHeight + 30;
  const columnLabels =
    top > 16
      ? examples.map((example, column) => {
          const x = labelWidth + column * cell + cell / 2;
          return h('text', { x, y: top - 6, transform: `rotate(-50 ${x} ${top - 6})`, fill: MUTED, 'font-size': 10 }, example.length > 12 ? `${example.slice(0, 11)}…` : example);
        })
      : [];
  const rows = order.map(({ candidate, row }, position) => {
    const y = top + position * rowHeight;
    const cells = examples.map((example, column) => {
      const score = scores[row]?.[column] ?? null;
      const onFront = holds[row]?.[column] ?? false;
      const x = labelWidth + column * cell;
      return h(
        'g',
        { class: onFront ? 'cell front' : 'cell' },
        h('title', null, `#${candidate.idx} on ${example}: ${score === null ? 'not evaluated' : formatMetric(score)}${onFront ? ' (holds the front)' : ''}`),
        h('rect', { x: x + 1, y: y + 1, width: cell - 2, height: rowHeight - 2, rx: 2, fill: scoreColor(score, low, high) }),
        onFront ? h('circle', { cx: x + cell / 2, cy: y + rowHeight / 2, r: Math.min(3.5, cell / 5), fill: INK }) : null,
      );
    });
    return h(
      'g',
      { 'data-idx': candidate.idx },
      h('a', { href: link(candidate.idx) }, h('text', { x: 8, y: y + 15, fill: INK, 'font-size': 12, 'font-weight': 600 }, `#${candidate.idx}`)),
      h('text', { x: 44, y: y + 15, fill: MUTED, 'font-size': 11 }, `${formatMetric(candidate.val_mean)} · ${candidate.front_count}`),
      cells,
    );
  });
  return h(
    'svg',
    { xmlns: 'http://www.w3.org/2000/svg', viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-label': 'Pareto front per validation example', 'font-family': FONT, 'data-rows': order.length, 'data-candidates': scored.length, 'data-wide': width > WIDE ? 'true' : null },
    h('rect', { width, height, fill: '#fff' }),
    h('text', { x: 8, y: 12, fill: MUTED, 'font-size': 10 }, 'candidate · val mean · examples held'),
    columnLabels,
    rows,
    h(
      'text',
      { x: labelWidth, y: height - 8, fill: MUTED, 'font-size': 11 },
      `${examples.length} validation examples · shade = score · dot = on the front` +
        (order.length < scored.length ? ` · ${order.length} of ${scored.length.toLocaleString('en-US')} candidates: the best and those holding the most examples` : ''),
    ),
  );
}
