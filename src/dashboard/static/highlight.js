// A small line-by-line syntax highlighter for diffs: comments, strings,
// numbers, keywords. Produces text nodes inside spans, never markup.
import { el } from './dom.js';

const KEYWORDS = {
  python: 'False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield self',
  js: 'async await break case catch class const continue default delete do else export extends false finally for function if import in instanceof let new null of return static super switch this throw true try typeof undefined var void while yield',
  shell: 'if then else elif fi for while do done case esac in function return export local set',
};
const LANGUAGES = { py: 'python', js: 'js', mjs: 'js', cjs: 'js', ts: 'js', tsx: 'js', jsx: 'js', sh: 'shell', bash: 'shell' };

/** The language of a file path, or null for plain text. */
export function languageOf(path) {
  const ext = /\.([a-z]+)$/i.exec(path ?? '')?.[1]?.toLowerCase();
  return LANGUAGES[ext] ?? null;
}

const patterns = new Map();
function pattern(language) {
  if (!patterns.has(language)) {
    const comment = language === 'js' ? '\\/\\/.*$' : '#.*$';
    const words = KEYWORDS[language].split(' ').join('|');
    patterns.set(language, new RegExp(`(${comment})|("(?:[^"\\\\]|\\\\.)*"?|'(?:[^'\\\\]|\\\\.)*'?|\`(?:[^\`\\\\]|\\\\.)*\`?)|\\b(\\d[\\d_]*\\.?\\d*(?:e[+-]?\\d+)?)\\b|\\b(${words})\\b|([A-Za-z_][\\w]*)(?=\\()`, 'g'));
  }
  return patterns.get(language);
}

/** Nodes for one line of code in `language` (plain text when null). */
export function highlightLine(text, language) {
  if (!language) return [text];
  const nodes = [];
  let last = 0;
  const re = pattern(language);
  re.lastIndex = 0;
  for (let match = re.exec(text); match; match = re.exec(text)) {
    if (match[0] === '') {
      re.lastIndex++;
      continue;
    }
    if (match.index > last) nodes.push(text.slice(last, match.index));
    const kind = match[1] ? 'c' : match[2] ? 's' : match[3] ? 'n' : match[4] ? 'k' : 'f';
    nodes.push(el('span', { class: `tok-${kind}`, text: match[0] }));
    last = match.index + match[0].length;
  }
  if (last < text.length) nodes.push(text.slice(last));
  return nodes;
}
