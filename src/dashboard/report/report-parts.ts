import { h, type Child, type Markup } from '../render/markup.ts';

/** Small building blocks shared by the research and evolve reports. */

export function stat(label: string, value: string, note?: string | null, good = false): Markup {
  return h('div', { class: 'stat' }, h('div', { class: 'label' }, label), h('div', { class: `value${good ? ' good' : ''}` }, value), note ? h('div', { class: 'note' }, note) : null);
}

export function card(title: string, ...body: Child[]): Markup {
  return h('section', { class: 'card' }, h('h2', null, title), ...body);
}

export function badge(status: string): Markup {
  return h('span', { class: `badge ${/^[a-z_]+$/.test(status) ? status : ''}` }, status.replace(/_/g, ' '));
}

/** A git-style unified diff with added and removed lines shaded. */
export function diffBlock(diff: string): Markup {
  let inHunk = false;
  const spans: Markup[] = [];
  for (const line of diff.replace(/\n$/, '').split('\n')) {
    if (line.startsWith('diff --git')) inHunk = false;
    if (line.startsWith('@@')) inHunk = true;
    // Outside a hunk, only the file name matters (`+++ b/path`); inside, the first character says what the line is.
    const kind = !inHunk ? (line.startsWith('+++ ') ? 'file' : null) : line.startsWith('@@') ? 'hunk' : line[0] === '+' ? 'add' : line[0] === '-' ? 'del' : 'ctx';
    if (kind === null) continue;
    spans.push(h('span', { class: kind }, kind === 'file' ? line.slice(4).replace(/^b\//, '') : line === '' ? ' ' : line));
  }
  return h('pre', { class: 'diff' }, spans);
}

/** A table from column titles (a trailing `#` marks a numeric column) and rows of cells. */
export function table(titles: readonly string[], rows: readonly { cells: readonly Child[]; class?: string }[]): Markup {
  const numeric = titles.map((title) => title.endsWith('#'));
  return h(
    'table',
    null,
    h('thead', null, h('tr', null, titles.map((title, i) => h('th', { class: numeric[i] ? 'num' : null }, title.length > 1 ? title.replace(/#$/, '') : title)))),
    h('tbody', null, rows.map((row) => h('tr', { class: row.class ?? null }, row.cells.map((cell, i) => h('td', { class: numeric[i] ? 'num' : i === row.cells.length - 1 || titles[i] === 'description' ? 'desc' : null }, cell))))),
  );
}
