// The evolve (GEPA) study page: best validation score against metric calls,
// the pool's lineage, the per-example Pareto front, the candidates, and every
// proposal with the reflection's reasoning.
import { badge, card, el, replace, setCrumbs, stat } from './dom.js';
import * as f from './format.js';
import { loadFigure } from './svg-figure.js';

let chart;

export function render(root, view) {
  const { study } = view;
  setCrumbs([['Studies', '/'], [study.name]]);
  const calls = view.metric_calls;
  const meter = el('div', { class: 'progress' }, el('span'));
  if (calls.budget) meter.firstChild.style.width = `${Math.min(100, (calls.used / calls.budget) * 100)}%`;
  const seed = view.seed?.val_mean ?? null;
  const best = view.best?.val_mean ?? null;
  const gain = best !== null && seed !== null && seed !== 0 ? ((best - seed) / Math.abs(seed)) * 100 : null;
  // From a seed scoring 0 a percentage means nothing; show the raw gain.
  const gainText = gain !== null ? f.signedPercent(gain) : best !== null && seed !== null ? f.delta(best - seed) || '±0' : '–';
  // The summary lists the newest proposals and says how many there are.
  const accepted = view.accepted_total ?? view.proposals.filter((p) => p.accepted).length;
  const proposalCount = view.proposals_total ?? view.proposals.length;
  const chartBox = el('div', { class: 'chart', id: 'score-chart' });
  const lineage = el('div', { class: 'lineage', id: 'lineage' });
  const heatmap = el('div', { class: 'heatmap', id: 'front' });
  replace(
    root,
    el('div', { class: 'page-head' }, el('h1', { text: study.name }), badge(study.state), el('span', { class: 'muted', text: 'evolve study' })),
    el('p', { class: 'subline' }, study.stop_reason ? el('span', { text: study.stop_reason }) : null, el('span', { text: `components: ${view.components.join(', ') || '–'}` }), el('span', { text: `started ${f.time(study.created_at)}` })),
    el(
      'div',
      { class: 'stats' },
      stat('best validation', f.metric(best), view.best ? `candidate #${view.best.idx}` : 'seed not scored yet'),
      stat('vs seed', el('div', { class: `value ${best !== null && seed !== null && best > seed ? 'good' : ''}`, text: gainText }), `seed ${f.metric(seed)}`),
      view.best?.test_mean != null ? stat('held-out test', f.metric(view.best.test_mean), `seed ${f.metric(view.seed?.test_mean)}`) : null,
      stat('pool', String(view.candidates.length), `${accepted} accepted of ${proposalCount} proposals`),
      stat('metric calls', f.integer(calls.used), calls.budget ? `of ${f.integer(calls.budget)} budget` : 'no call budget', calls.budget ? meter : null),
      stat('spend', f.usd(view.spend.usd), view.spend.by_role.map((r) => `${r.role} ${f.usd(r.usd)}`).join(' · ') || 'no LLM calls'),
    ),
    card('Best validation score against metric calls', null, chartBox),
    card('Lineage · generations left to right, shaded by validation mean, best ringed', null, lineage),
    card('Pareto front · candidates × validation examples', null, heatmap),
    card('Candidates', null, candidatesTable(view)),
    card(proposalCount > view.proposals.length ? `Proposals (the newest ${view.proposals.length} of ${f.integer(proposalCount)})` : `Proposals (${proposalCount})`, null, proposalsList(view)),
  );
  scoreChart(chartBox, view);
  loadFigure(lineage, `/api/studies/${study.id}/figures/lineage.svg`);
  loadFigure(heatmap, `/api/studies/${study.id}/figures/front.svg`);
}

function scoreChart(container, view) {
  chart?.destroy();
  const joined = view.candidates.filter((c) => c.val_mean !== null).sort((a, b) => (a.found_at ?? 0) - (b.found_at ?? 0));
  if (!joined.length) {
    container.replaceChildren(el('div', { class: 'chart-empty', text: 'The seed is being scored on the validation set.' }));
    return;
  }
  // One x per distinct call count; the best carries forward as a step line.
  const xs = [...new Set([0, ...joined.map((c) => c.found_at ?? 0), view.metric_calls.used])].sort((a, b) => a - b);
  const pool = xs.map((x) => {
    const here = joined.filter((c) => (c.found_at ?? 0) === x);
    return here.length ? Math.max(...here.map((c) => c.val_mean)) : null;
  });
  let best = null;
  const bestLine = xs.map((x) => {
    for (const c of joined) if ((c.found_at ?? 0) === x && (best === null || c.val_mean > best)) best = c.val_mean;
    return best;
  });
  container.dataset.points = String(joined.length);
  chart = new uPlot(
    {
      width: Math.max(320, container.clientWidth),
      height: 300,
      scales: { x: { time: false } },
      series: [
        { label: 'metric calls' },
        { label: 'candidate joined', stroke: '#8c959f', fill: '#8c959f', width: 0, paths: () => null, points: { show: true, size: 9, fill: '#8c959f' }, value: (u, v) => f.metric(v) },
        { label: 'best validation', stroke: '#1a7f37', width: 2, spanGaps: true, paths: uPlot.paths.stepped({ align: 1 }), points: { show: false }, value: (u, v) => f.metric(v) },
      ],
      axes: [
        { label: 'metric calls', stroke: '#656d76', grid: { stroke: '#eaeef2' } },
        { label: 'validation mean', stroke: '#656d76', grid: { stroke: '#eaeef2' }, size: 60, values: (u, t) => t.map((v) => f.metric(v)) },
      ],
    },
    [xs, pool, bestLine],
    container,
  );
}

const candidateHref = (view, idx) => `/study/${view.study.id}/candidate/${idx}`;

function candidatesTable(view) {
  const rows = [...view.candidates]
    .sort((a, b) => (b.val_mean ?? -Infinity) - (a.val_mean ?? -Infinity))
    .map((c) =>
      el(
        'tr',
        { class: 'clickable', dataset: { idx: String(c.idx) }, onclick: (event) => { if (!event.target.closest('a')) location.href = candidateHref(view, c.idx); } },
        el('td', { class: 'num' }, el('a', { href: candidateHref(view, c.idx), text: `#${c.idx}` })),
        el('td', null, badge(c.origin === 'merge' ? 'invalid' : c.origin === 'seed' ? 'neutral' : 'running', c.origin)),
        el('td', { class: 'muted', text: c.parents.length ? c.parents.map((p) => `#${p}`).join(' + ') : '–' }),
        el('td', { class: `num ${c.idx === view.best?.idx ? 'delta good' : ''}`, text: f.metric(c.val_mean) }),
        el('td', { class: 'num', text: String(c.front_count) }),
        el('td', { class: 'num muted', text: f.metric(c.test_mean) }),
        el('td', { class: 'num muted', text: f.integer(c.found_at) }),
        el('td', { class: 'num', text: c.usd ? f.usd(c.usd) : '–' }),
        el('td', { class: 'desc', text: c.description }),
      ),
    );
  const titles = [['#', 1], ['origin'], ['parents'], ['val mean', 1], ['front', 1], ['test', 1], ['found at', 1], ['cost', 1], ['description']];
  return el('div', { class: 'table-wrap' }, el('table', { class: 'data', id: 'candidates-table' }, el('thead', null, el('tr', null, titles.map(([t, n]) => el('th', { class: n ? 'num' : null, text: t })))), el('tbody', null, rows)));
}

export function proposalsList(view, proposals = view.proposals) {
  if (!proposals.length) return el('p', { class: 'muted', text: 'No proposals yet.' });
  const rows = [...proposals].reverse().map((p) =>
    el(
      'details',
      { class: 'call', dataset: { iteration: String(p.iteration), outcome: p.outcome, key: `proposal-${p.iteration}` } },
      el(
        'summary',
        null,
        el('span', { class: 'num mono', text: `it ${p.iteration}` }),
        badge(p.accepted ? 'accepted' : p.outcome === 'rejected' || p.outcome === 'merge_rejected' ? 'rejected' : 'neutral', p.outcome),
        el('span', null, p.parent !== null ? el('a', { href: candidateHref(view, p.parent), text: `#${p.parent}` }) : '–', ' → ', p.child !== null ? el('a', { href: candidateHref(view, p.child), text: `#${p.child}` }) : el('span', { class: 'faint', text: 'none' })),
        p.component ? el('code', { text: p.component }) : null,
        p.parent_score !== null ? el('span', { class: 'muted', text: `minibatch ${f.metric(p.parent_score)} → ${f.metric(p.child_score)}` }) : null,
        el('span', { class: 'muted desc', text: p.detail }),
      ),
      p.reflections.length
        ? p.reflections.map((r) => el('div', { class: 'reflection' }, el('div', { class: 'muted', text: `reflection attempt ${r.attempt}${r.reason ? ` — refused: ${r.reason}` : ''}` }), el('pre', { class: 'block', text: r.reply })))
        : el('p', { class: 'muted', text: 'No reflection reply recorded for this iteration.' }),
    ),
  );
  return el('div', { id: 'proposals' }, rows);
}
