// The study list: every study in this repository's ledger.
import { badge, el, replace, setCrumbs } from './dom.js';
import * as f from './format.js';

export const url = () => '/api/studies';

export function render(root, studies) {
  setCrumbs([['Studies']]);
  const head = el('div', { class: 'page-head' }, el('h1', { text: 'Studies' }));
  if (studies.length === 0) {
    replace(root, head, el('div', { class: 'card' }, el('p', { class: 'muted', text: 'No studies yet. Run `strata research` (or `strata evolve`) in this repository; they appear here as they start.' })));
    return;
  }
  const rows = studies.map((study) => {
    const href = `/study/${study.id}`;
    const better = study.improvement_pct !== null && study.improvement_pct > 0;
    return el(
      'tr',
      { class: 'clickable', dataset: { study: study.name }, onclick: (event) => { if (!event.target.closest('a')) location.href = href; } },
      el('td', null, el('a', { href, text: study.name }), study.stale ? el('div', { class: 'faint', text: 'no heartbeat — the run may have died' }) : null),
      el('td', null, el('span', { class: 'muted', text: study.kind })),
      el('td', null, badge(study.state), study.running ? el('span', { class: 'muted', text: ` ${study.running} running` }) : null),
      el('td', { class: 'num', text: String(study.size) }),
      el('td', { class: 'num', text: String(study.kept) }),
      el('td', null, el('span', { class: 'muted', text: `${study.metric.name}${study.metric.name ? (study.metric.goal === 'minimize' ? ' ↓' : ' ↑') : ''}` })),
      el('td', { class: 'num', text: f.metric(study.best) }),
      el('td', { class: 'num muted', text: f.metric(study.baseline) }),
      el('td', { class: `num delta ${better ? 'good' : ''}`, text: f.signedPercent(study.improvement_pct) }),
      el('td', { class: 'num', text: f.usd(study.usd) }),
      el('td', { class: 'num muted', text: f.ago(study.updated_at), title: study.updated_at }),
    );
  });
  const header = ['study', 'kind', 'state', 'trials', 'kept', 'metric', 'best', 'baseline', 'vs baseline', 'spend', 'updated'];
  const numeric = new Set(['trials', 'kept', 'best', 'baseline', 'vs baseline', 'spend', 'updated']);
  replace(
    root,
    head,
    el('p', { class: 'subline', text: `${studies.length} ${studies.length === 1 ? 'study' : 'studies'} in this repository's ledger` }),
    el('div', { class: 'card' }, el('div', { class: 'table-wrap' }, el('table', { class: 'data', id: 'studies' }, el('thead', null, el('tr', null, header.map((title) => el('th', { class: numeric.has(title) ? 'num' : null, text: title })))), el('tbody', null, rows)))),
  );
}
