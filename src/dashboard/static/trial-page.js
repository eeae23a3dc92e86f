// One trial: what changed (the diff), what it printed (the log), what it
// cost (model calls), and every recorded detail.
import { badge, card, el, replace, setCrumbs } from './dom.js';
import * as f from './format.js';
import { diffView } from './diff-view.js';
import { llmCalls } from './llm-calls.js';

export const url = (params) => `/api/studies/${params.study}/trials/${params.seq}`;

const view = { mode: 'unified', fullLog: null, key: null };

function fact(label, value, title) {
  return el('div', { class: 'fact' }, el('div', { class: 'k', text: label }), el('div', { class: 'v', title: title ?? null }, value));
}

/** Nested details as [dotted key, text] pairs: `evidence.test.pValue` → `0.012`. */
function flatten(value, prefix = '') {
  if (value === null || value === undefined) return [[prefix, '–']];
  if (typeof value === 'number') return [[prefix, f.metric(value)]];
  if (Array.isArray(value)) return [[prefix, value.length === 0 ? '–' : value.every((v) => typeof v === 'number') ? `[${value.map(f.metric).join(', ')}]` : value.map(String).join('; ')]];
  if (typeof value === 'object') return Object.entries(value).flatMap(([key, inner]) => flatten(inner, prefix ? `${prefix}.${key}` : key));
  return [[prefix, String(value)]];
}

export function render(root, data, params) {
  const { trial, study, metric } = data;
  const key = `${study.id}/${trial.seq}`;
  if (view.key !== key) Object.assign(view, { fullLog: null, key });
  setCrumbs([['Studies', '/'], [study.name, `/study/${study.id}`], [`trial #${trial.seq}`]]);
  const base = `/study/${study.id}/trial/`;
  const pager = el(
    'span',
    { class: 'pager' },
    data.neighbors.previous !== null ? el('a', { href: base + data.neighbors.previous, text: `← #${data.neighbors.previous}` }) : null,
    data.neighbors.next !== null ? el('a', { href: base + data.neighbors.next, text: `#${data.neighbors.next} →` }) : null,
  );
  const better = trial.better === true ? 'good' : trial.better === false ? 'bad' : '';
  const facts = el(
    'div',
    { class: 'facts' },
    fact(metric.name, el('strong', { text: f.metric(trial.metric) })),
    fact('Δ vs best before', el('span', { class: `delta ${better}`, text: trial.delta === null ? '–' : `${f.delta(trial.delta)} (best was ${f.metric(trial.best_before)})` })),
    trial.holdout !== null ? fact('holdout', f.metric(trial.holdout)) : null,
    fact('time', `${f.duration(trial.duration_s)}${trial.budget_s ? ` of ${f.duration(trial.budget_s)} budget` : ''}`),
    fact('exit', trial.signal ? `signal ${trial.signal}` : trial.exit_code === null ? '–' : `code ${trial.exit_code}`),
    fact('peak memory', trial.peak_memory_mb === null ? '–' : `${f.integer(trial.peak_memory_mb)} MB`),
    fact('proposer', trial.proposer),
    fact('cost', f.usd(trial.usd)),
    fact('commit', el('code', { text: f.shortSha(trial.commit) }), trial.commit ?? ''),
    fact('parent', el('code', { text: f.shortSha(trial.parent_commit) }), trial.parent_commit ?? ''),
    fact('started', f.time(trial.started_at)),
    fact('ended', f.time(trial.ended_at)),
    trial.slot ? fact('slot', trial.slot) : null,
    trial.attempt > 1 ? fact('attempt', String(trial.attempt)) : null,
  );

  const toggle = el(
    'span',
    { class: 'toggle' },
    ['unified', 'split'].map((mode) => el('button', { type: 'button', class: view.mode === mode ? 'on' : '', text: mode === 'split' ? 'side by side' : 'unified', onclick: () => { view.mode = mode; render(root, data, params); } })),
  );
  const diff = data.diff ? diffView(data.diff, view.mode) : el('p', { class: 'muted', text: trial.role === 'baseline' ? 'The baseline runs the unmodified code: no diff.' : 'No diff recorded.' });

  const logBox = el('pre', { class: 'block log', id: 'log', text: view.fullLog ?? data.log_tail ?? '(no output recorded)' });
  const logTools = trial.has_log
    ? el('button', {
        class: 'link',
        type: 'button',
        text: view.fullLog === null ? 'show the full log' : 'full log shown',
        onclick: async (event) => {
          const response = await fetch(`/api/studies/${study.id}/trials/${trial.seq}/log`);
          view.fullLog = response.ok ? await response.text() : `could not load the log: ${response.status} ${await response.text()}`;
          logBox.textContent = view.fullLog;
          event.target.textContent = 'full log shown';
        },
      })
    : null;

  // The acceptance rule's reasoning (noise-aware tests record their estimate, p-value, reruns) when the trial carries it.
  const acceptance = trial.meta && typeof trial.meta.acceptance === 'object' && trial.meta.acceptance !== null ? trial.meta.acceptance : null;
  const decision = acceptance ? el('div', { class: 'facts decision', id: 'acceptance' }, flatten(acceptance).map(([key, value]) => fact(key, value))) : null;
  const details = { params: trial.params, metrics: trial.metrics, meta: trial.meta };
  const detailBlocks = Object.entries(details)
    .filter(([, value]) => value && Object.keys(value).length)
    .map(([name, value]) => el('div', null, el('div', { class: 'component-name', text: name }), el('pre', { class: 'block', text: JSON.stringify(value, null, 2) })));

  replace(
    root,
    el('div', { class: 'page-head' }, el('h1', { text: `Trial #${trial.seq}` }), badge(trial.status), trial.role === 'baseline' ? badge('neutral', 'baseline') : null, pager),
    el('p', { class: 'description', id: 'description', text: trial.description || '(no description)' }),
    el('section', { class: 'card' }, facts, trial.reason ? el('p', { class: 'reason-line', text: trial.reason }) : null, trial.flags.map((flag) => el('p', { class: 'flag', text: `⚠ ${flag}` }))),
    decision ? card('Acceptance decision', null, decision) : null,
    card('Diff', data.diff ? toggle : null, diff),
    card(trial.status === 'running' ? 'Log (live tail)' : 'Log tail', logTools, logBox),
    card('Model calls', null, llmCalls(data.llm_calls)),
    detailBlocks.length ? card('Recorded details', null, detailBlocks) : null,
  );
}
