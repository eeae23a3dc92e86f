import { splitLines, type ProjectFiles } from './project-files.ts';

/** One SEARCH/REPLACE block, or (whole-file) a file's new content with `search` null. */
export interface FileEdit {
  path: string;
  /** Lines to find (exactly once); null = replace the whole file. */
  search: string[] | null;
  replace: string[];
}

/** What a text reply (search-replace or whole-file format) proposes. */
export interface ParsedReply {
  description: string;
  hypothesis: string | null;
  edits: FileEdit[];
}

/** A reply that cannot be used as written; the message is sent back to the model. */
export class ReplyFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplyFormatError';
  }
}

const SEARCH = /^\s*<{5,9} ?SEARCH\s*$/;
const DIVIDER = /^\s*={5,9}\s*$/;
const REPLACE = /^\s*>{5,9} ?REPLACE\s*$/;
const FENCE = /^\s*(`{3,}|~{3,})(.*)$/;

/**
 * Read a reply in the search-replace format: a `DESCRIPTION:` line, an
 * optional `HYPOTHESIS:` line, and blocks each headed by the file's path:
 *
 * ```
 * train.py
 * <<<<<<< SEARCH
 * lr = 0.1
 * =======
 * lr = 0.05
 * >>>>>>> REPLACE
 * ```
 *
 * @example
 * const { description, edits } = parseSearchReplace(reply.text);
 */
export function parseSearchReplace(text: string): ParsedReply {
  const lines = splitLines(text);
  const edits: FileEdit[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!SEARCH.test(lines[i]!)) continue;
    const path = pathAbove(lines, i);
    if (!path) throw new ReplyFormatError(`block ${edits.length + 1}: put the file's path on the line right above <<<<<<< SEARCH`);
    const search: string[] = [];
    const replace: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !DIVIDER.test(lines[j]!); j++) {
      if (SEARCH.test(lines[j]!) || REPLACE.test(lines[j]!)) throw new ReplyFormatError(`block ${edits.length + 1} (${path}): expected ======= between SEARCH and REPLACE`);
      search.push(lines[j]!);
    }
    if (j >= lines.length) throw new ReplyFormatError(`block ${edits.length + 1} (${path}): missing the ======= line`);
    for (j++; j < lines.length && !REPLACE.test(lines[j]!); j++) {
      if (SEARCH.test(lines[j]!) || DIVIDER.test(lines[j]!)) throw new ReplyFormatError(`block ${edits.length + 1} (${path}): missing >>>>>>> REPLACE before the next block`);
      replace.push(lines[j]!);
    }
    if (j >= lines.length) throw new ReplyFormatError(`block ${edits.length + 1} (${path}): missing the >>>>>>> REPLACE line`);
    edits.push({ path, search, replace });
    i = j;
  }
  if (edits.length === 0) throw new ReplyFormatError('no SEARCH/REPLACE block found; write at least one block in the exact format shown');
  return { ...headerLines(lines), edits };
}

/**
 * Read a reply in the whole-file format: a `DESCRIPTION:` line, then each
 * changed file as its path on one line followed by a fenced block holding the
 * complete new content.
 *
 * @example
 * const { edits } = parseWholeFiles('DESCRIPTION: x\ntrain.py\n```python\nprint(1)\n```\n');
 */
export function parseWholeFiles(text: string): ParsedReply {
  const lines = splitLines(text);
  const edits: FileEdit[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]!);
    if (!open) continue;
    const fence = open[1]!;
    const info = open[2]!.trim();
    const path = looksLikePath(info) ? info : pathAbove(lines, i);
    let j = i + 1;
    const content: string[] = [];
    for (; j < lines.length && lines[j]!.trim() !== fence; j++) content.push(lines[j]!);
    if (j >= lines.length) throw new ReplyFormatError(`the block for ${path ?? 'a file'} is not closed with ${fence}`);
    if (!path) throw new ReplyFormatError(`block ${edits.length + 1}: put the file's path on the line right above its opening ${fence}`);
    edits.push({ path, search: null, replace: content });
    i = j;
  }
  if (edits.length === 0) throw new ReplyFormatError('no file block found; write each changed file as its path on one line, then a fenced block with its complete content');
  return { ...headerLines(lines), edits };
}

/**
 * Apply edits all-or-nothing: each is checked against the content the ones
 * before it left, and files are written only when every edit applied. A
 * SEARCH must match whole lines exactly once (trailing spaces forgiven when
 * that makes it unique); an empty SEARCH creates a new file.
 * Returns a line per file changed; throws ReplyFormatError (for the model).
 */
export function applyEdits(files: ProjectFiles, edits: readonly FileEdit[]): string[] {
  const pending = new Map<string, { text: string; existed: boolean }>();
  edits.forEach((edit, index) => {
    const label = `block ${index + 1} (${edit.path})`;
    let path: string;
    try {
      path = files.check(edit.path, 'write');
    } catch (error) {
      throw new ReplyFormatError(`${label}: ${(error as Error).message}`);
    }
    const current = pending.get(path) ?? (files.exists(path) ? { text: files.readText(path), existed: true } : { text: '', existed: false });
    const newline = current.text.includes('\r\n') ? '\r\n' : '\n';
    const joined = (lines: readonly string[]) => (lines.length === 0 ? '' : `${lines.join(newline)}${newline}`);
    if (edit.search === null) {
      pending.set(path, { ...current, text: joined(edit.replace) });
      return;
    }
    if (edit.search.every((line) => line.trim() === '')) {
      if (current.existed || current.text !== '') throw new ReplyFormatError(`${label}: the SEARCH part is empty but the file exists; quote the exact lines to replace`);
      pending.set(path, { ...current, text: joined(edit.replace) });
      return;
    }
    if (!current.existed && !pending.has(path)) throw new ReplyFormatError(`${label}: no such file; to create it, leave the SEARCH part empty`);
    const lines = splitLines(current.text);
    let matches = findLines(lines, edit.search, (a, b) => a === b);
    if (matches.length === 0) matches = findLines(lines, edit.search, (a, b) => a.trimEnd() === b.trimEnd());
    if (matches.length !== 1) {
      throw new ReplyFormatError(
        matches.length === 0
          ? `${label}: the SEARCH lines do not match the file exactly (every character and indent counts); copy them from the file as shown`
          : `${label}: the SEARCH lines match ${matches.length} places; include more lines so they match exactly once`,
      );
    }
    const at = matches[0]!;
    const next = [...lines.slice(0, at), ...edit.replace, ...lines.slice(at + edit.search.length)];
    const trailing = current.text === '' || /\r?\n$/.test(current.text);
    pending.set(path, { ...current, text: next.length === 0 ? '' : next.join(newline) + (trailing ? newline : '') });
  });
  const changed: string[] = [];
  for (const [path, { text }] of pending) {
    if (files.exists(path) && files.readText(path) === text) continue;
    files.write(path, text);
    changed.push(path);
  }
  return changed;
}

function findLines(lines: readonly string[], search: readonly string[], equal: (a: string, b: string) => boolean): number[] {
  const found: number[] = [];
  for (let i = 0; i + search.length <= lines.length; i++) {
    let ok = true;
    for (let k = 0; k < search.length && ok; k++) ok = equal(lines[i + k]!, search[k]!);
    if (ok) found.push(i);
  }
  return found;
}

/** The path written above a block: the nearest non-empty line that is not a fence, stripped of markdown. */
function pathAbove(lines: readonly string[], index: number): string | undefined {
  for (let i = index - 1; i >= 0 && i >= index - 3; i--) {
    const line = lines[i]!.trim();
    if (line === '' || FENCE.test(line)) continue;
    const candidate = line.replace(/^#+\s*/, '').replace(/^[*`_]+|[*`_:]+$/g, '').replace(/^(file|path):\s*/i, '').trim();
    return looksLikePath(candidate) ? candidate : undefined;
  }
  return undefined;
}

function looksLikePath(text: string): boolean {
  return /^[\w./@+-][\w./@+ -]*$/.test(text) && !/\s{2,}/.test(text) && (text.includes('.') || text.includes('/')) && !text.endsWith('.');
}

function headerLines(lines: readonly string[]): { description: string; hypothesis: string | null } {
  const field = (name: string) => {
    const pattern = new RegExp(`^\\s*[*_]*${name}[*_]*\\s*:[*_]*\\s*(.+)$`, 'i');
    for (const line of lines) {
      const match = pattern.exec(line);
      if (match) return match[1]!.trim();
    }
    return null;
  };
  const description = field('DESCRIPTION');
  if (!description) throw new ReplyFormatError('start the reply with one line "DESCRIPTION: <what you changed and why>"');
  return { description, hypothesis: field('HYPOTHESIS') };
}
