// One evolve candidate: its components, the diff against its parent, its
// score on every validation example, and the reflection that produced it.
import { badge, card, el, replace, setCrumbs } from './dom.js';
import * as f from './format.js';
import { diffView } from './diff-view.js';
import { llmCalls } from './llm-calls.js';
import { proposalsList } from './evolve-page.js';

export const url = (params) => `/api/studies/${params.study}/candidates/${params.idx}`;

export function render(root, data) {
  const { study, candidate } = data;
  setCrumbs([['Studies', '/'], [study.name, `/study/${study.id}`], [`candidate #${candidate.idx}`]]);
  const base = `/study/${study.id}/candidate/`;
  const view = { study };
  const changed = data.diffs.filter((d) => d.diff);
  replace(
    root,
    el(
      'div',
      { class: 'page-head' },
      el('h1', { text: `Candidate #${candidate.idx}` }),
      badge('neutral', candidate.origin),
      el('span', { class: 'muted' }, candidate.parents.length ? ['from ', candidate.parents.map((p, i) => [i ? ' + ' : '', el('a', { href: base + p, text: `#${p}` })])] : 'the seed'),
      el('span', { class: 'pager' }, data.neighbors.previous !== null ? el('a', { href: base + data.neighbors.previous, text: `← #${data.neighbors.previous}` }) : null, data.neighbors.next !== null ? el('a', { href: base + data.neighbors.next, text: `#${data.neighbors.next} →` }) : null),
    ),
    el('p', { class: 'description', text: candidate.description || '' }),
    el(
      'section',
      { class: 'card' },
      el(
        'div',
        { class: 'facts' },
        [
          ['validation mean', f.metric(candidate.val_mean)],
          ['examples on the front', String(candidate.front_count)],
          ['held-out test', f.metric(candidate.test_mean)],
          ['iteration', candidate.iteration === null ? '–' : String(candidate.iteration)],
          ['found at', `${f.integer(candidate.found_at)} metric calls`],
          ['cost', f.usd(candidate.usd)],
          ['children', data.children.length ? data.children.map((c) => `#${c}`).join(', ') : 'none'],
        ].map(([k, v]) => el('div', { class: 'fact' }, el('div', { class: 'k', text: k }), el('div', { class: 'v', text: v }))),
      ),
    ),
    data.diffs.length ? card(`Changes from #${data.diffs[0].parent}`, null, changed.length ? changed.map((d) => diffView(d.diff, 'unified')) : el('p', { class: 'muted', text: 'No component changed.' })) : null,
    card('Components', null, Object.entries(data.components).map(([name, text]) => [el('div', { class: 'component-name', text: name }), el('pre', { class: 'block', text })])),
    data.proposal ? card('The proposal that made it', null, proposalsList(view, [data.proposal])) : null,
    card(
      'Validation scores',
      null,
      el(
        'div',
        { class: 'table-wrap' },
        el(
          'table',
          { class: 'data' },
          el('thead', null, el('tr', null, ['example', 'score', 'best in pool', 'front', 'feedback'].map((t, i) => el('th', { class: i === 1 || i === 2 ? 'num' : null, text: t })))),
          el('tbody', null, data.scores.map((s) => el('tr', null, el('td', { class: 'mono', text: s.example }), el('td', { class: 'num', text: f.metric(s.score) }), el('td', { class: 'num muted', text: f.metric(s.best) }), el('td', { text: s.holds ? '●' : '' }), el('td', { class: 'desc muted', text: s.feedback ?? '' })))),
        ),
      ),
    ),
    data.tried_from.length ? card(`Proposals tried from #${candidate.idx} (${data.tried_from.length})`, null, proposalsList(view, data.tried_from)) : null,
    card('Model calls', null, llmCalls(data.llm_calls)),
  );
}
