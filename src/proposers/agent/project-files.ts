import { lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, writeFileSync, type Dirent } from 'node:fs';
import { dirname, isAbsolute, join, matchesGlob, posix, relative, sep } from 'node:path';
import { StrataError } from '../../core/errors.ts';

/** A path the agent asked for that it may not use (outside the project, through a symlink, not editable). */
export class PathRefusedError extends StrataError {
  constructor(message: string, path: string) {
    super('path_refused', message, { details: { path } });
  }
}

/** Folders never listed or searched: version control, Strata's own state, caches, environments. */
const SKIPPED_DIRS = new Set(['.git', '.strata', 'node_modules', '__pycache__', '.venv', 'venv', '.mypy_cache', '.pytest_cache', '.ruff_cache', '.cache']);
/** Path segments the agent may never name, even to read. */
const FORBIDDEN_SEGMENTS = new Set(['.git', '.strata']);
const MAX_LISTED = 1000;
const MAX_READ_LINES = 800;
const MAX_READ_CHARS = 60_000;
const MAX_SEARCH_HITS = 100;
const MAX_SEARCHED_FILE_BYTES = 1_000_000;

/** One file of the project as the agent sees it. */
export interface ListedFile {
  path: string;
  bytes: number;
  editable: boolean;
}

/**
 * The agent's only way to touch files: everything is relative to the project
 * folder of the trial's worktree. A path is refused when it is absolute,
 * contains `..`, names `.git`/`.strata`, or resolves (through symlinks)
 * outside the project; writes are refused unless the path matches an
 * `editable` glob, and never go through a symlink.
 *
 * @example
 * const files = new ProjectFiles(context.projectDir, ['train.py']);
 * files.read('train.py', 1, 40);        // numbered lines 1-40
 * files.replace('train.py', 'lr = 0.1', 'lr = 0.05');
 * files.write('../x', '');              // throws PathRefusedError
 */
export class ProjectFiles {
  readonly root: string;
  readonly editable: readonly string[];
  private readonly realRoot: string;
  /** Paths written so far (project-relative), in order of first write. */
  readonly written: string[] = [];

  constructor(root: string, editable: readonly string[]) {
    this.root = root;
    this.editable = editable;
    this.realRoot = realpathSync(root);
  }

  isEditable(path: string): boolean {
    return this.editable.some((glob) => matchesGlob(path, glob));
  }

  /** A project-relative posix path, checked; returns it normalized. */
  check(path: string, intent: 'read' | 'write'): string {
    const cleaned = cleanPath(path);
    const absolute = join(this.root, cleaned);
    // The deepest existing ancestor must resolve inside the project (a symlinked folder pointing out is refused).
    let probe = absolute;
    for (;;) {
      const stat = lstatOrNull(probe);
      if (stat) {
        const real = realpathOrNull(probe);
        if (real === null || !inside(this.realRoot, real)) throw new PathRefusedError(`${cleaned}: resolves outside the project (a symlink); refused`, cleaned);
        break;
      }
      const parent = dirname(probe);
      if (parent === probe) break;
      probe = parent;
    }
    if (intent === 'write') {
      if (!this.isEditable(cleaned)) {
        throw new PathRefusedError(`${cleaned}: not editable; this study may change only ${this.editable.join(', ')}`, cleaned);
      }
      if (lstatOrNull(absolute)?.isSymbolicLink()) throw new PathRefusedError(`${cleaned}: is a symlink; writes never go through symlinks`, cleaned);
    }
    return cleaned;
  }

  /** Every file under `dir` (default: the whole project), sorted, at most 1000. */
  list(dir = '.'): { files: ListedFile[]; truncated: boolean } {
    const start = dir === '.' || dir === '' ? '' : this.check(dir, 'read');
    const files: ListedFile[] = [];
    let truncated = false;
    const walk = (relativeDir: string) => {
      let entries: Dirent[];
      try {
        entries = readdirSync(join(this.root, relativeDir), { withFileTypes: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') {
          const stat = lstatSync(join(this.root, relativeDir));
          files.push({ path: relativeDir, bytes: stat.size, editable: this.isEditable(relativeDir) });
          return;
        }
        throw error;
      }
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const entry of entries) {
        if (files.length >= MAX_LISTED) {
          truncated = true;
          return;
        }
        const path = relativeDir ? `${relativeDir}/${entry.name}` : entry.name;
        if (entry.isDirectory()) {
          if (!SKIPPED_DIRS.has(entry.name)) walk(path);
        } else if (entry.isFile() && !FORBIDDEN_SEGMENTS.has(entry.name)) {
          files.push({ path, bytes: lstatSync(join(this.root, path)).size, editable: this.isEditable(path) });
        }
        // Symlinks are not followed (they may point anywhere); the agent can still read one that stays inside.
      }
    };
    walk(start);
    return { files, truncated };
  }

  /** Whether a file exists at a (checked) path. */
  exists(path: string): boolean {
    return lstatOrNull(join(this.root, this.check(path, 'read')))?.isFile() === true;
  }

  /** Raw text of a file (for edits). */
  readText(path: string): string {
    const cleaned = this.check(path, 'read');
    const stat = lstatOrNull(join(this.root, cleaned));
    if (!stat) throw new PathRefusedError(`${cleaned}: no such file`, cleaned);
    if (stat.isDirectory()) throw new PathRefusedError(`${cleaned}: is a folder; use list_files`, cleaned);
    return readFileSync(join(this.root, cleaned), 'utf8');
  }

  /** Lines `startLine..endLine` (1-based, inclusive), numbered, capped at 800 lines / 60k characters. */
  read(path: string, startLine = 1, endLine?: number): string {
    const text = this.readText(path);
    const lines = splitLines(text);
    const first = Math.max(1, Math.floor(startLine));
    const last = Math.min(lines.length, endLine === undefined ? first + MAX_READ_LINES - 1 : Math.floor(endLine), first + MAX_READ_LINES - 1);
    if (lines.length === 0) return `${path}: (empty file)`;
    if (first > lines.length) return `${path} has ${lines.length} lines; start_line ${first} is past the end`;
    const out: string[] = [];
    let chars = 0;
    let shownLast = first - 1;
    for (let number = first; number <= last; number++) {
      const line = `${String(number).padStart(5)}  ${lines[number - 1]}`;
      if (chars + line.length > MAX_READ_CHARS) break;
      out.push(line);
      chars += line.length + 1;
      shownLast = number;
    }
    const more = shownLast < lines.length ? `\n[lines ${first}-${shownLast} of ${lines.length}; read on with start_line ${shownLast + 1}]` : '';
    return `${out.join('\n')}${more}`;
  }

  /** Lines containing `pattern` (plain text, case-sensitive) in files under `dir`, at most 100 hits. */
  search(pattern: string, dir = '.'): string {
    if (pattern === '') throw new PathRefusedError('an empty search pattern matches everything; give some text', dir);
    const hits: string[] = [];
    for (const file of this.list(dir).files) {
      if (file.bytes > MAX_SEARCHED_FILE_BYTES) continue;
      const buffer = readFileSync(join(this.root, file.path));
      if (buffer.includes(0)) continue; // binary
      const lines = splitLines(buffer.toString('utf8'));
      for (let i = 0; i < lines.length; i++) {
        if (!lines[i]!.includes(pattern)) continue;
        if (hits.length >= MAX_SEARCH_HITS) return `${hits.join('\n')}\n[more than ${MAX_SEARCH_HITS} matches; narrow the search]`;
        hits.push(`${file.path}:${i + 1}: ${lines[i]!.slice(0, 300)}`);
      }
    }
    return hits.length === 0 ? `no line contains ${JSON.stringify(pattern)}` : hits.join('\n');
  }

  /** Write a whole file (creating folders), if the path is editable. */
  write(path: string, content: string): void {
    const cleaned = this.check(path, 'write');
    const absolute = join(this.root, cleaned);
    mkdirSync(dirname(absolute), { recursive: true });
    // Re-check after creating folders: nothing on the way may have become a link out.
    this.check(cleaned, 'write');
    writeFileSync(absolute, content);
    if (!this.written.includes(cleaned)) this.written.push(cleaned);
  }

  /**
   * Replace the one occurrence of `oldText` in a file with `newText`; an empty
   * `oldText` creates a file that does not exist yet. Throws (for the model to
   * read) when `oldText` occurs zero times or more than once.
   */
  replace(path: string, oldText: string, newText: string): string {
    const cleaned = this.check(path, 'write');
    if (oldText === '') {
      if (this.exists(cleaned)) throw new PathRefusedError(`${cleaned} exists: quote the text to replace in old_text (an empty old_text only creates new files)`, cleaned);
      this.write(cleaned, newText);
      return `created ${cleaned} (${splitLines(newText).length} lines)`;
    }
    const text = this.readText(cleaned);
    const count = occurrences(text, oldText);
    if (count !== 1) {
      throw new PathRefusedError(
        count === 0
          ? `${cleaned}: old_text was not found; it must match the file exactly, whitespace included (read the file again)`
          : `${cleaned}: old_text occurs ${count} times; include more surrounding lines so it matches exactly once`,
        cleaned,
      );
    }
    const at = text.indexOf(oldText);
    this.write(cleaned, text.slice(0, at) + newText + text.slice(at + oldText.length));
    return `edited ${cleaned}`;
  }
}

/** Normalize a path the model gave, refusing absolute paths, `..`, and `.git`/`.strata`. */
export function cleanPath(path: string): string {
  const raw = String(path).trim().replace(/\\/g, '/');
  if (raw === '' || raw.includes('\0')) throw new PathRefusedError('an empty path; give a path relative to the project folder', raw);
  if (isAbsolute(raw) || raw.startsWith('/') || /^[A-Za-z]:/.test(raw) || raw.startsWith('~')) {
    throw new PathRefusedError(`${raw}: absolute paths are refused; give a path relative to the project folder`, raw);
  }
  const segments = raw.split('/');
  if (segments.includes('..')) throw new PathRefusedError(`${raw}: ".." is refused; every path stays inside the project folder`, raw);
  const normalized = posix.normalize(raw).replace(/^\.\/+/, '').replace(/\/+$/, '');
  if (normalized === '' || normalized === '.') throw new PathRefusedError('name a file, not the project folder itself', raw);
  if (normalized.split('/').some((segment) => FORBIDDEN_SEGMENTS.has(segment))) throw new PathRefusedError(`${raw}: .git and .strata are off limits`, raw);
  return normalized;
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel) && rel.split(sep)[0] !== '..');
}

function lstatOrNull(path: string) {
  try {
    return lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw error;
  }
}

/** Null for a dangling symlink (its target does not exist: treated as pointing out). */
function realpathOrNull(path: string): string | null {
  try {
    return realpathSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ELOOP') return null;
    throw error;
  }
}

/** Lines without their terminators (a final newline does not make an extra empty line). */
export function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

function occurrences(text: string, needle: string): number {
  let count = 0;
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + 1)) count++;
  return count;
}
