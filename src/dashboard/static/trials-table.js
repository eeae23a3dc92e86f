// The table of trials: filter by status, search the text, sort by any column.
import { badge, el, replace } from './dom.js';
import * as f from './format.js';
import { confirmVeto } from './oversight-panel.js';

const state = { status: 'all', query: '', sort: 'seq', descending: true, study: null };

function columns(view) {
  const list = [
    { key: 'seq', title: '#', num: true, value: (t) => t.seq, cell: (t) => el('a', { href: trialHref(view, t), text: `#${t.seq}` }) },
    { key: 'status', title: 'status', value: (t) => t.status, cell: (t) => badge(t.status) },
    { key: 'metric', title: view.metric.name, num: true, value: (t) => t.metric, cell: (t) => f.metric(t.metric), class: 'metric' },
    { key: 'delta', title: 'Δ best', num: true, value: (t) => t.delta, cell: (t) => el('span', { class: `delta ${t.better === true ? 'good' : t.better === false ? 'bad' : ''}`, text: f.delta(t.delta) }) },
  ];
  if (view.has_holdout) list.push({ key: 'holdout', title: 'holdout', num: true, value: (t) => t.holdout, cell: (t) => f.metric(t.holdout) });
  list.push(
    { key: 'proposer', title: 'proposer', value: (t) => t.proposer, cell: (t) => el('span', { class: 'muted', text: t.proposer }) },
    {
      key: 'description',
      title: 'description',
      value: (t) => t.description,
      class: 'desc',
      cell: (t) => [
        el('span', { text: t.description }),
        t.reason && !['keep', 'discard'].includes(t.status) ? el('div', { class: 'reason', text: t.reason }) : null,
        (t.flags ?? []).map((flag) => el('div', { class: 'flag', text: `⚠ ${flag}` })),
        // Where the program or the notes changed: this trial was the first proposed under the new guidance.
        (view.guidance_changes ?? []).filter((change) => change.before === t.seq).map((change) => el('div', { class: 'guidance-change', dataset: { kind: change.kind }, text: `✎ ${change.text}` })),
      ],
    },
    { key: 'duration_s', title: 'time', num: true, value: (t) => t.duration_s, cell: (t) => f.duration(t.duration_s) },
    { key: 'usd', title: 'cost', num: true, value: (t) => t.usd, cell: (t) => (t.usd ? f.usd(t.usd) : '–') },
    {
      key: 'veto',
      title: '',
      value: (t) => (t.vetoable ? 1 : 0),
      cell: (t) =>
        t.vetoable
          ? el('button', { type: 'button', class: 'veto-row', title: `Veto #${t.seq}: undo this kept change`, dataset: { seq: String(t.seq) }, onclick: (event) => { event.stopPropagation(); confirmVeto(view.study.id, t.seq); } }, 'Veto')
          : null,
    },
  );
  return list;
}

const trialHref = (view, trial) => `/study/${view.study.id}/trial/${trial.seq}`;

function compare(column, descending) {
  return (a, b) => {
    const x = column.value(a);
    const y = column.value(b);
    // Missing values sort last either way.
    if (x === null || x === undefined) return y === null || y === undefined ? 0 : 1;
    if (y === null || y === undefined) return -1;
    const order = typeof x === 'number' ? x - y : String(x).localeCompare(String(y));
    return descending ? -order : order;
  };
}

/** Render (or re-render with the same filters) the trials table into `container`. */
export function renderTrialsTable(container, view) {
  if (state.study !== view.study.id) Object.assign(state, { status: 'all', query: '', sort: 'seq', descending: true, study: view.study.id });
  const cols = columns(view);
  const counts = {};
  for (const trial of view.trials) counts[trial.status] = (counts[trial.status] ?? 0) + 1;
  const redraw = () => renderTrialsTable(container, view);

  const chips = ['all', ...['keep', 'discard', 'crash', 'timeout', 'invalid', 'interrupted'].filter((s) => counts[s])].map((status) =>
    el(
      'button',
      { class: `chip ${state.status === status ? 'on' : ''}`, type: 'button', dataset: { status }, onclick: () => { state.status = status; redraw(); } },
      status === 'all' ? 'all' : status,
      el('span', { class: 'count', text: String(status === 'all' ? view.trials.length : counts[status]) }),
    ),
  );
  const search = el('input', { class: 'search', type: 'search', placeholder: 'Search descriptions, proposers…', value: state.query, 'aria-label': 'search trials' });
  search.addEventListener('input', () => {
    state.query = search.value;
    fill();
  });

  const column = cols.find((c) => c.key === state.sort) ?? cols[0];
  const head = el(
    'tr',
    null,
    cols.map((c) =>
      el('th', {
        class: ['sortable', c.num ? 'num' : '', c.key === state.sort ? `sorted ${state.descending ? '' : 'asc'}` : ''].join(' '),
        text: c.title,
        dataset: { key: c.key },
        onclick: () => {
          state.descending = state.sort === c.key ? !state.descending : c.num;
          state.sort = c.key;
          redraw();
        },
      }),
    ),
  );
  const body = el('tbody');
  const empty = el('p', { class: 'muted hidden', text: 'No trial matches.' });
  function fill() {
    const query = state.query.trim().toLowerCase();
    const rows = view.trials
      .filter((t) => state.status === 'all' || t.status === state.status)
      .filter((t) => !query || `${t.description} ${t.proposer} ${t.reason ?? ''} #${t.seq}`.toLowerCase().includes(query))
      .sort(compare(column, state.descending));
    replace(
      body,
      rows.map((trial) =>
        el(
          'tr',
          { class: `clickable st-${trial.status}`, dataset: { seq: String(trial.seq), status: trial.status }, onclick: (event) => { if (!event.target.closest('a, button')) location.href = trialHref(view, trial); } },
          cols.map((c) => el('td', { class: [c.num ? 'num' : '', c.class ?? ''].join(' ') }, c.cell(trial))),
        ),
      ),
    );
    empty.classList.toggle('hidden', rows.length > 0);
  }
  fill();
  const focused = document.activeElement?.classList.contains('search') && container.contains(document.activeElement);
  replace(container, el('div', { class: 'toolbar' }, chips, search), el('div', { class: 'table-wrap' }, el('table', { class: 'data', id: 'trials-table' }, el('thead', null, head), body)), empty);
  if (focused) {
    search.focus();
    search.setSelectionRange(search.value.length, search.value.length);
  }
}
