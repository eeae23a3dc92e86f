// The autoresearch progress chart, drawn with uPlot: each trial's metric
// against trial number; kept trials green and joined by the running-best
// step line, discards faded, trials without a metric marked along the floor,
// holdout in orange when the study measures it.
import { el } from './dom.js';
import * as f from './format.js';

const COLORS = { keep: '#1a7f37', discard: '#8c959f', crash: '#cf222e', timeout: '#bf8700', invalid: '#8250df', holdout: '#e16f24' };
const charts = new WeakMap();

function points(label, color, size, extra = {}) {
  return { label, stroke: color, fill: color, width: 0, paths: () => null, points: { show: true, size, width: 1.5, stroke: color, fill: extra.hollow ? '#fff' : color }, ...extra.series };
}

/**
 * The series to draw, with their columns: only the kinds of failure that
 * occurred, holdout only when measured. Failures sit on a floor below the data.
 */
function layers(view) {
  const p = view.progress;
  const values = [...p.kept, ...p.discarded, ...(view.has_holdout ? p.holdout : [])].filter((v) => v !== null);
  const low = values.length ? Math.min(...values) : 0;
  const high = values.length ? Math.max(...values) : 1;
  const floor = values.length ? low - (high - low || Math.abs(low) * 0.1 || 1) * 0.08 : 0;
  const failed = (statuses) => p.status.map((s, i) => (p.failed[i] !== null && statuses.includes(s) ? floor : null));
  const value = (u, v) => f.metric(v);
  const mark = (u, v) => (v === null ? '–' : '✕');
  const list = [
    { key: 'discarded', point: true, data: p.discarded, series: points('discarded', COLORS.discard, 8, { series: { value } }) },
    { key: 'kept', point: true, data: p.kept, series: points('kept', COLORS.keep, 11, { series: { value } }) },
    { key: 'best', data: p.best, series: { label: 'best so far', stroke: COLORS.keep, width: 2, spanGaps: true, paths: uPlot.paths.stepped({ align: 1 }), points: { show: false }, value } },
    { key: 'crash', point: true, data: failed(['crash']), series: points('crash', COLORS.crash, 9, { hollow: true, series: { value: mark } }) },
    { key: 'timeout', point: true, data: failed(['timeout']), series: points('timeout', COLORS.timeout, 9, { hollow: true, series: { value: mark } }) },
    { key: 'invalid', point: true, data: failed(['invalid', 'interrupted']), series: points('invalid / interrupted', COLORS.invalid, 9, { hollow: true, series: { value: mark } }) },
  ];
  if (view.has_holdout) list.push({ key: 'holdout', data: p.holdout, series: { label: 'holdout', stroke: COLORS.holdout, width: 1.5, dash: [5, 4], spanGaps: true, points: { show: true, size: 7, fill: COLORS.holdout }, value } });
  return list.filter((layer) => layer.key === 'discarded' || layer.key === 'kept' || layer.key === 'best' || layer.data.some((v) => v !== null));
}

function options(view, width, tip, list) {
  return {
    width,
    height: 340,
    scales: { x: { time: false } },
    series: [{ label: 'trial', value: (u, v) => (v === null ? '–' : `#${v}`) }, ...list.map((layer) => layer.series)],
    cursor: { drag: { x: false, y: false }, points: { size: 9 } },
    axes: [
      { label: 'trial', stroke: '#656d76', grid: { stroke: '#eaeef2' }, ticks: { stroke: '#eaeef2' }, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000], values: (u, ticks) => ticks.map((t) => String(t)) },
      { label: view.metric.name, stroke: '#656d76', grid: { stroke: '#eaeef2' }, ticks: { stroke: '#eaeef2' }, size: 64, values: (u, ticks) => ticks.map((t) => f.metric(t)) },
    ],
    hooks: { setCursor: [(u) => showTip(u, tip)] },
  };
}

function showTip(u, tip) {
  const index = u.cursor.idx;
  const trial = index === null || index === undefined ? undefined : u.strataTrials?.[index];
  if (!trial || u.cursor.left < 0) {
    tip.classList.add('hidden');
    return;
  }
  tip.replaceChildren(
    el('div', { class: 'tip-title', text: `#${trial.seq} · ${trial.status}${trial.metric !== null ? ` · ${f.metric(trial.metric)}` : ''}` }),
    el('div', { text: trial.description || '' }),
    trial.reason && trial.status !== 'keep' && trial.status !== 'discard' ? el('div', { class: 'faint', text: trial.reason }) : null,
  );
  tip.classList.remove('hidden');
  const over = u.over.getBoundingClientRect();
  const host = tip.parentElement.getBoundingClientRect();
  const left = over.left - host.left + u.cursor.left;
  tip.style.left = `${Math.min(left + 14, host.width - 320)}px`;
  tip.style.top = `${over.top - host.top + Math.max(0, u.cursor.top - 20)}px`;
}

/** What the hover and a click need of each point, from the series' columns. */
function pointsOf(p) {
  return p.seq.map((seq, i) => ({ seq, status: p.status[i], metric: p.kept[i] ?? p.discarded[i] ?? null, description: p.description?.[i] ?? '', reason: p.reason?.[i] ?? null }));
}

/** Create the chart in `container`, or update it in place with new data. */
export function renderProgressChart(container, view) {
  const list = layers(view);
  const data = [view.progress.seq, ...list.map((layer) => layer.data)];
  const signature = list.map((layer) => layer.key).join(',');
  // One point per trial: what the tests count and what a reader sees.
  container.dataset.points = String(list.filter((layer) => layer.point).reduce((sum, layer) => sum + layer.data.filter((v) => v !== null).length, 0));
  // How many finished trials the points stand for; past a few thousand, discards are thinned (keeps and failures never).
  container.dataset.trials = String(view.progress.total ?? view.progress.seq.length);
  container.dataset.thinned = String(Boolean(view.progress.thinned));
  container.dataset.keeps = String(view.progress.kept.filter((v) => v !== null).length);
  container.dataset.failures = String(view.progress.failed.filter((v) => v !== null).length);
  let state = charts.get(container);
  if (view.progress.seq.length === 0) {
    state?.plot.destroy();
    charts.delete(container);
    container.replaceChildren(el('div', { class: 'chart-empty', text: 'The first trial (the baseline) is running; the chart starts when it ends.' }));
    return;
  }
  if (state && state.signature !== signature) {
    state.plot.destroy();
    state = undefined;
  }
  if (!state) {
    container.replaceChildren();
    const tip = el('div', { class: 'chart-tip hidden' });
    const plot = new uPlot(options(view, Math.max(320, container.clientWidth), tip, list), data, container);
    container.append(tip);
    plot.over.addEventListener('click', () => {
      const index = plot.cursor.idx;
      const trial = index === null || index === undefined ? undefined : plot.strataTrials?.[index];
      if (trial) location.href = `/study/${view.study.id}/trial/${trial.seq}`;
    });
    plot.over.style.cursor = 'pointer';
    new ResizeObserver(() => plot.setSize({ width: Math.max(320, container.clientWidth), height: 340 })).observe(container);
    state = { plot, signature };
    charts.set(container, state);
  } else {
    state.plot.setData(data);
  }
  state.plot.strataTrials = pointsOf(view.progress);
}
