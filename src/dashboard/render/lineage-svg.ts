import type { EvolveCandidateView } from '../views/evolve-view.ts';
import { h, type Markup } from './markup.ts';
import { GRID, INK, MUTED } from './status-colors.ts';
import { formatMetric } from './format.ts';

/** Most candidates the lineage draws; a larger pool shows the ancestry of the best and of the front's strongest. */
export const LINEAGE_NODES = 150;

/**
 * The candidates a large pool's lineage shows: the best and its ancestors,
 * then the ancestors of the candidates holding the most of the front, while
 * they fit in `limit` (each one's whole ancestry or none of it).
 */
export function ancestry(candidates: readonly EvolveCandidateView[], bestIdx: number | null, limit: number): EvolveCandidateView[] {
  const byIdx = new Map(candidates.map((candidate) => [candidate.idx, candidate]));
  const shown = new Set<number>();
  const lineOf = (idx: number) => {
    const line = new Set<number>();
    const stack = [idx];
    while (stack.length) {
      const at = stack.pop()!;
      if (line.has(at) || shown.has(at) || !byIdx.has(at)) continue;
      line.add(at);
      stack.push(...byIdx.get(at)!.parents);
    }
    return line;
  };
  const strongest = [...candidates].sort((a, b) => b.front_count - a.front_count || (b.val_mean ?? -Infinity) - (a.val_mean ?? -Infinity) || a.idx - b.idx);
  for (const idx of [...(bestIdx === null ? [] : [bestIdx]), ...strongest.map((candidate) => candidate.idx)]) {
    const line = lineOf(idx);
    if (shown.size > 0 && shown.size + line.size > limit) continue;
    for (const member of line) shown.add(member);
    if (shown.size >= limit) break;
  }
  return candidates.filter((candidate) => shown.has(candidate.idx));
}

/** Wider than this, the page shows the figure at its size in a scrolling box (style.css). */
const WIDE = 1400;

const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif';

/** Light to dark green by score within the pool's range. */
export function scoreColor(value: number | null, low: number, high: number): string {
  if (value === null || !Number.isFinite(value)) return '#eaeef2';
  const t = high > low ? (value - low) / (high - low) : 1;
  const mix = (a: number, b: number) => Math.round(a + (b - a) * t);
  return `rgb(${mix(218, 26)},${mix(251, 127)},${mix(225, 55)})`;
}

/**
 * The candidate pool as a lineage tree: generations left to right, an edge
 * from each parent (dashed for merges), nodes shaded by validation mean, the
 * best ringed. `link(idx)` gives each node's href.
 *
 * @example
 * lineageSvg(view.candidates, view.best?.idx ?? null, (idx) => `#candidate-${idx}`).html;
 */
export function lineageSvg(all: readonly EvolveCandidateView[], bestIdx: number | null, link: (idx: number) => string, maxNodes = LINEAGE_NODES): Markup {
  const candidates = all.length <= maxNodes ? all : ancestry(all, bestIdx, maxNodes);
  const byIdx = new Map(candidates.map((candidate) => [candidate.idx, candidate]));
  const depth = new Map<number, number>();
  const depthOf = (idx: number, seen = new Set<number>()): number => {
    const known = depth.get(idx);
    if (known !== undefined) return known;
    const candidate = byIdx.get(idx);
    // Parents always have lower indices; `seen` only guards a corrupt ledger against a cycle.
    const parents = (candidate?.parents ?? []).filter((parent) => byIdx.has(parent) && !seen.has(parent));
    const value = parents.length ? 1 + Math.max(...parents.map((parent) => depthOf(parent, new Set([...seen, idx])))) : 0;
    depth.set(idx, value);
    return value;
  };
  const columns = new Map<number, EvolveCandidateView[]>();
  for (const candidate of [...candidates].sort((a, b) => a.idx - b.idx)) {
    const d = depthOf(candidate.idx);
    columns.set(d, [...(columns.get(d) ?? []), candidate]);
  }
  const generations = columns.size ? Math.max(...columns.keys()) + 1 : 1;
  const tallest = Math.max(1, ...[...columns.values()].map((column) => column.length));
  // Deep lineages get narrower columns; values then live in the hover titles only.
  const dx = Math.max(48, Math.min(132, Math.floor(1100 / Math.max(1, generations - 1))));
  const showValues = dx >= 90;
  const dy = 54;
  const margin = { left: 40, top: 36, right: showValues ? 90 : 40, bottom: 20 };
  const width = margin.left + (generations - 1) * dx + margin.right;
  const height = margin.top + (tallest - 1) * dy + margin.bottom + 24;
  const position = new Map<number, { x: number; y: number }>();
  for (const [d, column] of columns) {
    const offset = ((tallest - column.length) * dy) / 2;
    column.forEach((candidate, row) => position.set(candidate.idx, { x: margin.left + d * dx, y: margin.top + offset + row * dy }));
  }
  const scores = candidates.map((candidate) => candidate.val_mean).filter((value): value is number => value !== null);
  const low = scores.length ? Math.min(...scores) : 0;
  const high = scores.length ? Math.max(...scores) : 1;

  const edges = candidates.flatMap((candidate) =>
    candidate.parents
      .filter((parent) => position.has(parent))
      .map((parent) => {
        const from = position.get(parent)!;
        const to = position.get(candidate.idx)!;
        const mid = (from.x + to.x) / 2;
        return h('path', {
          d: `M${from.x + 14},${from.y}C${mid},${from.y} ${mid},${to.y} ${to.x - 14},${to.y}`,
          fill: 'none',
          stroke: '#afb8c1',
          'stroke-width': 1.5,
          'stroke-dasharray': candidate.parents.length > 1 ? '4 3' : null,
        });
      }),
  );
  const nodes = candidates.map((candidate) => {
    const { x, y } = position.get(candidate.idx)!;
    const best = candidate.idx === bestIdx;
    const fill = scoreColor(candidate.val_mean, low, high);
    const dark = candidate.val_mean !== null && high > low && (candidate.val_mean - low) / (high - low) > 0.55;
    return h(
      'a',
      { href: link(candidate.idx), class: 'node', 'data-idx': candidate.idx },
      h('title', null, `#${candidate.idx} ${candidate.origin} · val ${formatMetric(candidate.val_mean)}${candidate.parents.length ? ` · from #${candidate.parents.join(', #')}` : ''}\n${candidate.description}`),
      best ? h('circle', { cx: x, cy: y, r: 19, fill: 'none', stroke: '#bf8700', 'stroke-width': 2.5 }) : null,
      h('circle', { cx: x, cy: y, r: 14, fill, stroke: candidate.origin === 'merge' ? '#8250df' : '#57606a', 'stroke-width': 1.2 }),
      h('text', { x, y: y + 4, 'text-anchor': 'middle', fill: dark ? '#fff' : INK, 'font-size': 11, 'font-weight': 600 }, String(candidate.idx)),
      showValues ? h('text', { x: x + 22, y: y + 4, fill: MUTED, 'font-size': 11 }, formatMetric(candidate.val_mean)) : null,
    );
  });
  const labels = Array.from({ length: generations }, (_, d) =>
    h('text', { x: margin.left + d * dx, y: 14, 'text-anchor': 'middle', fill: MUTED, 'font-size': 11 }, d === 0 ? 'seed' : `gen ${d}`),
  );
  return h(
    'svg',
    { xmlns: 'http://www.w3.org/2000/svg', viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-label': 'candidate lineage', 'font-family': FONT, 'data-nodes': candidates.length, 'data-total': all.length, 'data-wide': width > WIDE ? 'true' : null },
    h('rect', { width, height, fill: '#fff' }),
    h('line', { x1: 0, x2: width, y1: 22, y2: 22, stroke: GRID }),
    candidates.length < all.length
      ? h('text', { x: 8, y: height - 8, fill: MUTED, 'font-size': 11 }, `${candidates.length} of ${all.length.toLocaleString('en-US')} candidates: the ancestry of the best and of those holding the most of the front`)
      : null,
    labels,
    edges,
    nodes,
  );
}
