// The pipeline page: its stages in order, each linking to its study, with the
// result, the trials and spend, and what each stage received from earlier ones.
import { badge, card, el, replace, setCrumbs, stat } from './dom.js';
import * as f from './format.js';

export function render(root, view) {
  const { study } = view;
  setCrumbs([['Studies', '/'], [study.name]]);
  const rows = view.stages.map((stage) =>
    el(
      'tr',
      { dataset: { stage: stage.stage } },
      el('td', { text: stage.stage }),
      el('td', null, el('span', { class: 'muted', text: stage.kind })),
      el('td', null, stage.study ? badge(stage.study.state) : badge('pending')),
      el('td', null, stage.study ? el('a', { href: `/study/${stage.study.id}`, text: stage.study.name }) : el('span', { class: 'faint', text: 'not started' })),
      el('td', { class: 'num', text: f.metric(stage.result.best) }),
      el('td', { class: 'num muted', text: f.metric(stage.result.baseline) }),
      el('td', null, el('span', { class: 'muted', text: `${stage.result.label}${stage.result.goal === 'minimize' ? ' ↓' : ' ↑'}` })),
      el('td', { class: 'num', text: String(stage.trials) }),
      el('td', { class: 'num', text: stage.evaluations ? String(stage.evaluations) : '' }),
      el('td', { class: 'num', text: f.usd(stage.usd) }),
    ),
  );
  const header = ['stage', 'kind', 'state', 'study', 'best', 'baseline', 'metric', 'trials', 'evaluations', 'spend'];
  const numeric = new Set(['best', 'baseline', 'trials', 'evaluations', 'spend']);
  const received = view.stages
    .filter((stage) => stage.received && (stage.received.handoff || stage.received.inputs.length > 0 || stage.received.base_commit !== stage.received.start_commit))
    .map((stage) =>
      el(
        'div',
        { class: 'received', dataset: { stage: stage.stage } },
        el('h3', { text: `${stage.stage} started from ${f.shortSha(stage.received.base_commit)}` }),
        el(
          'ul',
          null,
          stage.received.handoff
            ? el('li', { text: `hand-off from ${stage.received.handoff.from}: ${Object.entries(stage.received.handoff.files).map(([component, file]) => `${component} → ${file}`).join(', ')} (commit ${f.shortSha(stage.received.handoff.commit)} on ${f.shortSha(stage.received.start_commit)})` })
            : null,
          stage.received.inputs.map((input) => el('li', null, el('code', { text: input.reference }), ` = ${input.value}${input.file ? ` (${input.file})` : ''}`)),
        ),
      ),
    );
  replace(
    root,
    el('div', { class: 'page-head' }, el('h1', { text: study.name }), badge(study.state), el('span', { class: 'muted', text: 'pipeline' })),
    el('p', { class: 'subline' }, study.stop_reason ? el('span', { text: study.stop_reason }) : null, el('span', { text: `from ${f.shortSha(study.base_commit)}` }), el('span', { text: `started ${f.time(study.created_at)}` })),
    el(
      'div',
      { class: 'stats' },
      stat('stages', `${view.stages.filter((stage) => stage.study?.state === 'done').length} / ${view.stages.length}`, 'done'),
      stat('trials', f.integer(view.totals.trials), view.totals.evaluations ? `${view.totals.evaluations} in research evaluations' studies` : 'all stages'),
      stat('spend', f.usd(view.totals.usd), 'all stages and evaluations'),
    ),
    card('Stages, in order', null, el('div', { class: 'table-wrap' }, el('table', { class: 'data', id: 'stages' }, el('thead', null, el('tr', null, header.map((title) => el('th', { class: numeric.has(title) ? 'num' : null, text: title })))), el('tbody', null, rows)))),
    received.length ? card('What each stage received', null, received) : null,
  );
}
