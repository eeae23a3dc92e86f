// The research study page: headline numbers, what runs now, the progress
// chart, and the table of trials.
import { badge, card, el, replace, setCrumbs, stat } from './dom.js';
import * as f from './format.js';
import { renderProgressChart } from './progress-chart.js';
import { renderTrialsTable, tableQuery } from './trials-table.js';
import { mergeProgress, MERGE_LIMIT } from './progress-merge.js';
import { oversightPanel } from './oversight-panel.js';
import { contributionsCard } from './contributions-chart.js';

const COUNT_ORDER = ['keep', 'discard', 'crash', 'timeout', 'invalid', 'interrupted'];
const COUNT_COLORS = { keep: 'var(--keep)', discard: 'var(--discard)', crash: 'var(--crash)', timeout: 'var(--timeout)', invalid: 'var(--invalid)', interrupted: 'var(--interrupted)' };

let layout;

/**
 * The summary's query: the table's page, and after the first load `since` the
 * chart's cursor, so a live update sends the points that changed, not all of them.
 */
export function summaryQuery(root, studyId) {
  const fresh = !layout || String(layout.id) !== String(studyId) || !root.contains(layout.chart) || layout.progress === null || layout.progress.seq.length > MERGE_LIMIT;
  sentTableQuery = tableQuery(studyId);
  return `${fresh ? '' : `since=${layout.cursor}&`}${sentTableQuery}`;
}
let sentTableQuery = null;

export function render(root, view) {
  const { study, metric } = view;
  setCrumbs([['Studies', '/'], [study.name]]);
  // Build the skeleton once per study, so the chart and the table keep their state across live updates.
  if (!layout || layout.id !== study.id || !root.contains(layout.chart)) {
    layout = { id: study.id, progress: null, cursor: 0, head: el('div'), stats: el('div', { class: 'stats' }), running: el('div'), chart: el('div', { class: 'chart', id: 'progress-chart' }), contributions: contributionsCard(), table: el('div', { id: 'trials' }) };
    // The control panel is built once (live updates must not clear what the user is typing).
    replace(root, layout.head, layout.stats, layout.running, oversightPanel(view), card(`Progress · ${metric.name} (${metric.goal === 'minimize' ? 'lower' : 'higher'} is better)`, null, layout.chart), layout.contributions.node, card('Trials', null, layout.table));
  }
  replace(layout.head, header(view));
  replace(layout.stats, stats(view));
  replace(layout.running, view.running.length ? running(view) : null);
  // The chart's points: all of them on the first load, then only those that changed since the cursor.
  if (view.progress) layout.progress = view.progress;
  else if (view.progress_since && layout.progress) layout.progress = mergeProgress(layout.progress, view.progress_since.points, view.finished);
  layout.cursor = view.cursor;
  if (layout.progress) renderProgressChart(layout.chart, { ...view, progress: layout.progress });
  layout.contributions.update(view);
  if (view.table) renderTrialsTable(layout.table, view, { ...view.table, query: sentTableQuery });
}

function header(view) {
  const { study } = view;
  return [
    el('div', { class: 'page-head' }, el('h1', { text: study.name }), badge(study.state), el('span', { class: 'muted', text: 'research study' })),
    el(
      'p',
      { class: 'subline' },
      study.stop_reason ? el('span', { text: study.stop_reason }) : null,
      study.branch ? el('span', null, 'branch ', el('code', { text: study.branch })) : null,
      el('span', { text: `started ${f.time(study.created_at)}` }),
    ),
    study.stale ? el('div', { class: 'notice', text: `The ledger says running, but the last heartbeat was ${f.ago(study.heartbeat_at)}: the orchestrator has probably stopped. Run \`strata research\` again to resume.` }) : null,
  ];
}

function stats(view) {
  const { best, baseline, counts, metric } = view;
  const finished = view.finished;
  const bar = el(
    'div',
    { class: 'countbar', title: COUNT_ORDER.filter((s) => counts[s]).map((s) => `${counts[s]} ${s}`).join(', ') },
    COUNT_ORDER.filter((s) => counts[s]).map((s) => {
      const span = el('span');
      span.style.width = `${(counts[s] / Math.max(1, finished)) * 100}%`;
      span.style.background = COUNT_COLORS[s];
      return span;
    }),
  );
  const improved = view.improvement_pct !== null && view.improvement_pct > 0;
  const cards = [
    stat(`best ${metric.name}`, f.metric(best?.metric), best ? `trial #${best.seq} · ${f.shortSha(best.commit)}` : 'no kept trial yet'),
    stat('vs baseline', el('div', { class: `value ${improved ? 'good' : ''}`, text: f.signedPercent(view.improvement_pct) }), baseline ? `baseline ${f.metric(baseline.metric)}` : 'baseline not measured yet'),
    stat('trials', String(finished), `${counts.keep ?? 0} kept · ${counts.discard ?? 0} discarded · ${(counts.crash ?? 0) + (counts.timeout ?? 0) + (counts.invalid ?? 0)} failed`, bar),
    stat('trial time', f.duration(view.total_time_s), view.duty ? `over ${f.duration(view.duty.span_s)} wall` : null),
    stat('duty cycle', view.duty ? f.percent(view.duty.fraction, 0) : '–', view.duty ? `${view.duty.slots} slot${view.duty.slots === 1 ? '' : 's'} busy running trials` : 'no trial ran yet'),
    stat('spend', f.usd(view.spend.usd), view.spend.calls ? `${view.spend.calls} LLM calls${view.spend.by_role.length > 1 ? ` · ${view.spend.by_role.map((r) => `${r.role} ${f.usd(r.usd)}`).join(', ')}` : ''}` : 'no LLM calls'),
  ];
  if (view.has_holdout && best) cards.splice(2, 0, stat(`holdout ${metric.name}`, f.metric(best.holdout), best.holdout !== null && best.metric !== null ? `gap ${f.delta(best.holdout - best.metric)} vs validation` : 'not measured for the best'));
  return cards;
}

function running(view) {
  return card(
    `Running now (${view.running.length})`,
    null,
    el(
      'div',
      { class: 'running-list' },
      view.running.map((trial) => {
        const bar = el('span');
        const meter = el('div', { class: 'progress' }, bar);
        const clock = el('span', { class: 'num mono', dataset: trial.started_at ? { started: trial.started_at, budget: String(trial.budget_s ?? '') } : {} });
        const row = el(
          'div',
          { class: 'run-row', dataset: { seq: String(trial.seq) } },
          el('a', { href: `/study/${view.study.id}/trial/${trial.seq}`, text: `#${trial.seq}` }),
          el('div', null, badge(trial.status), ' ', el('span', { text: trial.description || '(proposing…)' }), trial.slot ? el('span', { class: 'muted', text: ` · ${trial.slot}` }) : null),
          meter,
          clock,
        );
        tick(clock, bar, meter);
        return row;
      }),
    ),
  );
}

/** Update one running trial's clock and bar from its start time. */
export function tick(clock, bar, meter) {
  const row = clock.closest('.run-row');
  bar ??= row?.querySelector('.progress > span');
  meter ??= row?.querySelector('.progress');
  const started = clock.dataset.started;
  if (!started) {
    clock.textContent = 'queued';
    return;
  }
  const elapsed = Math.max(0, (Date.now() - Date.parse(started)) / 1000);
  const budget = Number(clock.dataset.budget) || null;
  clock.textContent = budget ? `${f.duration(elapsed)} / ${f.duration(budget)}` : f.duration(elapsed);
  if (bar && budget) bar.style.width = `${Math.min(100, (elapsed / budget) * 100)}%`;
  meter?.classList.toggle('over', budget !== null && elapsed > budget);
}
