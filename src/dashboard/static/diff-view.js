// A git diff, unified or side by side, with line numbers and highlighting.
import { el } from './dom.js';
import { highlightLine, languageOf } from './highlight.js';

/** Parse `git diff` output into files with hunks of typed lines. */
export function parseDiff(text) {
  const files = [];
  let file;
  let hunk;
  let oldLine = 0;
  let newLine = 0;
  for (const line of text.replace(/\n$/, '').split('\n')) {
    if (line.startsWith('diff --git ')) {
      file = { path: /^diff --git a\/(.*) b\//.exec(line)?.[1] ?? line.slice(11), hunks: [], notes: [] };
      files.push(file);
      hunk = undefined;
      continue;
    }
    if (!file) {
      file = { path: '', hunks: [], notes: [] };
      files.push(file);
    }
    if (!hunk && line.startsWith('--- ')) continue;
    if (!hunk && line.startsWith('+++ ')) {
      const path = line.slice(4).replace(/^b\//, '');
      if (path !== '/dev/null') file.path = path;
      continue;
    }
    const header = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@(.*)$/.exec(line);
    if (header) {
      oldLine = Number(header[1]);
      newLine = Number(header[2]);
      hunk = { header: line, lines: [] };
      file.hunks.push(hunk);
      continue;
    }
    if (!hunk) {
      if (!/^(index |old mode|new mode|similarity|rename|deleted file|new file)/.test(line) || /^(new file|deleted file|rename)/.test(line)) file.notes.push(line);
      continue;
    }
    const kind = line[0];
    if (kind === '+') hunk.lines.push({ kind: 'add', text: line.slice(1), newNo: newLine++ });
    else if (kind === '-') hunk.lines.push({ kind: 'del', text: line.slice(1), oldNo: oldLine++ });
    else if (kind === '\\') hunk.lines.push({ kind: 'note', text: line });
    else hunk.lines.push({ kind: 'ctx', text: line.slice(1), oldNo: oldLine++, newNo: newLine++ });
  }
  return files.filter((f) => f.path || f.hunks.length);
}

const cell = (text, language) => el('td', { class: 'code' }, highlightLine(text, language));
const number = (n) => el('td', { class: 'ln', text: n === undefined ? '' : String(n) });

function unifiedRows(file, language) {
  const rows = [];
  for (const hunk of file.hunks) {
    rows.push(el('tr', { class: 'hunk' }, el('td', { class: 'ln' }), el('td', { class: 'ln' }), el('td', { text: hunk.header })));
    for (const line of hunk.lines) {
      const sign = line.kind === 'add' ? '+' : line.kind === 'del' ? '-' : ' ';
      rows.push(el('tr', { class: line.kind }, number(line.oldNo), number(line.newNo), el('td', { class: 'code' }, line.kind === 'note' ? line.text : [sign, ...highlightLine(line.text, language)])));
    }
  }
  return rows;
}

function splitRows(file, language) {
  const rows = [];
  for (const hunk of file.hunks) {
    rows.push(el('tr', { class: 'hunk' }, el('td', { class: 'ln' }), el('td', { colspan: '3', text: hunk.header })));
    const lines = hunk.lines.filter((l) => l.kind !== 'note');
    for (let i = 0; i < lines.length; ) {
      if (lines[i].kind === 'ctx') {
        const line = lines[i++];
        rows.push(el('tr', { class: 'ctx' }, number(line.oldNo), cell(line.text, language), number(line.newNo), cell(line.text, language)));
        continue;
      }
      // Pair a run of deletions with the additions that follow it.
      const deleted = [];
      const added = [];
      while (i < lines.length && lines[i].kind === 'del') deleted.push(lines[i++]);
      while (i < lines.length && lines[i].kind === 'add') added.push(lines[i++]);
      for (let k = 0; k < Math.max(deleted.length, added.length); k++) {
        const left = deleted[k];
        const right = added[k];
        rows.push(
          el(
            'tr',
            null,
            left ? number(left.oldNo) : number(),
            left ? el('td', { class: 'code del-side' }, highlightLine(left.text, language)) : el('td', { class: 'code empty-side' }),
            right ? number(right.newNo) : number(),
            right ? el('td', { class: 'code add-side' }, highlightLine(right.text, language)) : el('td', { class: 'code empty-side' }),
          ),
        );
      }
    }
  }
  return rows;
}

/** The diff as a node; `mode` is 'unified' or 'split'. */
export function diffView(text, mode) {
  const files = parseDiff(text);
  return el(
    'div',
    { class: 'diff-files' },
    files.map((file) => {
      const language = languageOf(file.path);
      return el(
        'div',
        { class: 'diff', dataset: { file: file.path } },
        el('div', { class: 'file' }, file.path || '(diff)', file.notes.length ? el('span', { class: 'muted', text: `  ${file.notes.join(' · ')}` }) : null),
        el('table', { class: mode === 'split' ? 'split' : 'unified' }, el('tbody', null, mode === 'split' ? splitRows(file, language) : unifiedRows(file, language))),
      );
    }),
  );
}
