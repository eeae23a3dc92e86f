// The table of trials, a page at a time: the server filters by status, searches the text and sorts by
// any column (GET /api/studies/:id/trials), so a study of 20,000 trials draws 50 rows, not 20,000.
import { badge, el, replace } from './dom.js';
import * as f from './format.js';
import { confirmVeto } from './oversight-panel.js';

/** Rows per page. */
export const PAGE_SIZE = 50;
const FRESH = { status: 'all', query: '', sort: 'seq', descending: true, page: 1 };
const state = { ...FRESH, study: null };
let generation = 0;
let typing;

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
      sortable: false,
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

/** The table's current page as query parameters (the summary request carries them too, so a live update redraws both at once). */
export function tableQuery(studyId) {
  if (String(state.study) !== String(studyId)) Object.assign(state, FRESH, { study: Number(studyId) });
  const params = new URLSearchParams({ page: String(state.page), limit: String(PAGE_SIZE), sort: state.sort, order: state.descending ? 'desc' : 'asc' });
  if (state.status !== 'all') params.set('status', state.status);
  if (state.query.trim()) params.set('q', state.query.trim());
  return params.toString();
}

/** Fetch the page the state names and draw it; an answer overtaken by a newer request is dropped. */
async function load(container, view) {
  const mine = ++generation;
  container.dataset.state = 'loading';
  try {
    const response = await fetch(`/api/studies/${view.study.id}/trials?${tableQuery(view.study.id)}`, { headers: { Accept: 'application/json' } });
    const body = await response.json();
    if (!response.ok) throw new Error(body.error ?? `${response.status} ${response.statusText}`);
    if (mine === generation) renderTrialsTable(container, view, body);
  } catch (error) {
    if (mine === generation) replace(container, el('div', { class: 'error-box', text: `Could not load the trials: ${error.message ?? error}` }));
  }
}

/**
 * Draw `page` (the rows the server sent for the current filters) into
 * `container`, with the status chips (counts from the study's summary),
 * the search box, sortable headings and the pager.
 */
export function renderTrialsTable(container, view, page) {
  tableQuery(view.study.id);
  const cols = columns(view);
  const counts = view.counts ?? {};
  const finished = view.finished ?? 0;
  const reload = () => load(container, view);
  // A summary fetched before the user changed the filters carries a page of the old ones: draw the new.
  if (page.query && page.query !== tableQuery(view.study.id)) {
    reload();
    return;
  }

  const chips = ['all', ...['keep', 'discard', 'crash', 'timeout', 'invalid', 'interrupted'].filter((s) => counts[s])].map((status) =>
    el(
      'button',
      { class: `chip ${state.status === status ? 'on' : ''}`, type: 'button', dataset: { status }, onclick: () => { Object.assign(state, { status, page: 1 }); reload(); } },
      status === 'all' ? 'all' : status,
      el('span', { class: 'count', text: String(status === 'all' ? finished : counts[status]) }),
    ),
  );
  const search = el('input', { class: 'search', type: 'search', placeholder: 'Search descriptions, proposers…', value: state.query, 'aria-label': 'search trials' });
  search.addEventListener('input', () => {
    state.query = search.value;
    state.page = 1;
    clearTimeout(typing);
    typing = setTimeout(reload, 200);
  });

  const head = el(
    'tr',
    null,
    cols.map((c) =>
      el('th', {
        class: [c.sortable === false ? '' : 'sortable', c.num ? 'num' : '', c.key === state.sort ? `sorted ${state.descending ? '' : 'asc'}` : ''].join(' '),
        text: c.title,
        dataset: { key: c.key },
        onclick:
          c.sortable === false
            ? null
            : () => {
                state.descending = state.sort === c.key ? !state.descending : c.num;
                state.sort = c.key;
                state.page = 1;
                reload();
              },
      }),
    ),
  );
  const body = el(
    'tbody',
    null,
    page.trials.map((trial) =>
      el(
        'tr',
        { class: `clickable st-${trial.status}`, dataset: { seq: String(trial.seq), status: trial.status }, onclick: (event) => { if (!event.target.closest('a, button')) location.href = trialHref(view, trial); } },
        cols.map((c) => el('td', { class: [c.num ? 'num' : '', c.class ?? ''].join(' ') }, c.cell(trial))),
      ),
    ),
  );
  const first = page.total === 0 ? 0 : (page.page - 1) * page.limit + 1;
  const last = Math.min(page.total, page.page * page.limit);
  const go = (to) => () => {
    state.page = to;
    reload();
  };
  const pager = el(
    'div',
    { class: 'pager' },
    el('span', { class: 'rows-shown', id: 'trials-count', text: page.total === 0 ? 'No trial matches.' : `rows ${f.integer(first)}–${f.integer(last)} of ${f.integer(page.total)}${page.total < finished ? ` (of ${f.integer(finished)} trials)` : ''}` }),
    el('button', { type: 'button', class: 'page-button', dataset: { page: 'first' }, disabled: page.page <= 1, onclick: go(1) }, '«'),
    el('button', { type: 'button', class: 'page-button', dataset: { page: 'prev' }, disabled: page.page <= 1, onclick: go(page.page - 1) }, '‹ prev'),
    el('span', { class: 'page-of', text: `page ${f.integer(page.page)} of ${f.integer(page.pages)}` }),
    el('button', { type: 'button', class: 'page-button', dataset: { page: 'next' }, disabled: page.page >= page.pages, onclick: go(page.page + 1) }, 'next ›'),
    el('button', { type: 'button', class: 'page-button', dataset: { page: 'last' }, disabled: page.page >= page.pages, onclick: go(page.pages) }, '»'),
  );
  state.page = page.page;
  const focused = document.activeElement?.classList.contains('search') && container.contains(document.activeElement);
  replace(container, el('div', { class: 'toolbar' }, chips, search), el('div', { class: 'table-wrap' }, el('table', { class: 'data', id: 'trials-table' }, el('thead', null, head), body)), pager);
  Object.assign(container.dataset, { state: 'ready', total: String(page.total), page: String(page.page), pages: String(page.pages), status: state.status, sort: `${state.sort} ${state.descending ? 'desc' : 'asc'}` });
  if (focused) {
    search.focus();
    search.setSelectionRange(search.value.length, search.value.length);
  }
}
