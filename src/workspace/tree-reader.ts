import { readdir } from 'node:fs/promises';
import { GitError } from '../core/errors.ts';
import { GitBatchProcess } from './git-batch.ts';

/** One entry of a tree object: its mode as git writes it (`40000` for a tree, `160000` for a submodule) and object name. */
interface TreeEntry {
  mode: string;
  oid: string;
}

interface Tree {
  oid: string;
  entries: Map<string, TreeEntry>;
}

/** Tree objects kept in memory (they never change: an object name is its content). */
const CACHED_TREES = 20_000;

/** A full object name, or one with `^{tree}`: what it names is fixed. */
const IMMUTABLE_NAME = /^[0-9a-f]{40}(?:[0-9a-f]{24})?(?:\^\{tree\})?$/;

/**
 * Reads tree objects of one repository through a long-lived
 * `git cat-file --batch`, and answers whether a checkout holds anything its
 * tree does not: the question `git clean -ffdx` would act on, asked without
 * a process start. Names are compared byte for byte (latin1 strings).
 *
 * @example
 * const trees = new TreeReader(repo.root);
 * if (await trees.hasUntracked(worktree, `${commit}^{tree}`)) await git(['clean', '-ffdxq'], worktree);
 */
export class TreeReader {
  private readonly batch: GitBatchProcess;
  /** Trees read or being read, by object name and by the full names they were asked by (`<commit>^{tree}`). */
  private readonly trees = new Map<string, Promise<Tree>>();

  private readonly root: string;

  constructor(root: string) {
    this.root = root;
    this.batch = new GitBatchProcess(['cat-file', '--batch'], root);
  }

  /**
   * Does `checkout` hold a file, folder or link that `tree` (a tree, or a
   * name such as `<commit>^{tree}`) does not list? Looks into folders the tree
   * lists as trees; submodules and a top-level `.git` are the checkout's own.
   * A name that is not a tree throws a GitError.
   */
  async hasUntracked(checkout: string, tree: string): Promise<boolean> {
    return this.walk(Buffer.from(checkout), await this.read(tree), true);
  }

  /** The object name of the tree `name` names (`<commit>^{tree}`, a tree); a name that is not a tree throws a GitError. */
  async treeId(name: string): Promise<string> {
    return (await this.readTree(name)).oid;
  }

  close(): void {
    this.batch.close();
  }

  private async walk(dir: Buffer, tree: Map<string, TreeEntry>, top: boolean): Promise<boolean> {
    const entries = await readdir(dir, { withFileTypes: true, encoding: 'buffer' });
    const subtrees: Promise<boolean>[] = [];
    for (const entry of entries) {
      const name = entry.name.toString('latin1');
      if (top && name === '.git') continue;
      const tracked = tree.get(name);
      if (tracked === undefined) return true;
      if (tracked.mode === '40000' && entry.isDirectory()) {
        const path = Buffer.concat([dir, Buffer.from('/'), entry.name]);
        subtrees.push(this.read(tracked.oid).then((subtree) => this.walk(path, subtree, false)));
      }
    }
    for (const found of await Promise.all(subtrees)) if (found) return true;
    return false;
  }

  private async read(name: string): Promise<Map<string, TreeEntry>> {
    return (await this.readTree(name)).entries;
  }

  /**
   * Start reading a tree that will be asked for soon (the candidate's, for
   * the clean after its run). A failure here is not lost: the entry is
   * dropped and the real request reads again and fails itself.
   */
  prefetch(name: string): void {
    this.readTree(name).catch(() => undefined);
  }

  private readTree(name: string): Promise<Tree> {
    const cached = this.trees.get(name);
    if (cached) return cached;
    const reading = this.fetch(name);
    // What a full object name (or its ^{tree}) names never changes; what a ref names does.
    if (IMMUTABLE_NAME.test(name)) {
      if (this.trees.size >= CACHED_TREES) this.trees.clear();
      this.trees.set(name, reading);
      reading.then(
        (tree) => this.trees.set(tree.oid, reading),
        () => this.trees.delete(name),
      );
    }
    return reading;
  }

  private async fetch(name: string): Promise<Tree> {
    const problem = (detail: string) => new GitError(`cannot read the tree ${name} in ${this.root}: ${detail}`, { args: ['cat-file', '--batch', `< ${name}`], exitCode: null, stderr: detail, cwd: this.root });
    if (/\s/.test(name)) throw problem('not an object name');
    type Answer = { failed: string } | { oid: string; type: string; content: string };
    const answer = await this.batch.request<Answer>(`${name}\n`, (out) => {
      const headerEnd = out.indexOf('\n');
      if (headerEnd < 0) return null;
      const header = out.slice(0, headerEnd).split(' ');
      // `<name> missing` or `<name> ambiguous`: nothing follows.
      if (header.length !== 3) return { consumed: headerEnd + 1, value: { failed: out.slice(0, headerEnd) } };
      const size = Number(header[2]);
      if (out.length < headerEnd + 1 + size + 1) return null;
      return { consumed: headerEnd + 1 + size + 1, value: { oid: header[0]!, type: header[1]!, content: out.slice(headerEnd + 1, headerEnd + 1 + size) } };
    });
    if ('failed' in answer) throw problem(answer.failed);
    if (answer.type !== 'tree') throw problem(`it is a ${answer.type}, not a tree`);
    return { oid: answer.oid, entries: parseTree(answer.content, answer.oid.length / 2) };
  }
}

/** A tree object's entries (`<mode> <name>\0<raw object name>`, repeated), the content as latin1. */
function parseTree(content: string, hashBytes: number): Map<string, TreeEntry> {
  const entries = new Map<string, TreeEntry>();
  let at = 0;
  while (at < content.length) {
    const space = content.indexOf(' ', at);
    const nul = content.indexOf('\0', space);
    if (space < 0 || nul < 0) throw new GitError('git cat-file --batch returned a malformed tree object', { args: ['cat-file', '--batch'], exitCode: null, stderr: '', cwd: '' });
    entries.set(content.slice(space + 1, nul), { mode: content.slice(at, space), oid: Buffer.from(content.slice(nul + 1, nul + 1 + hashBytes), 'latin1').toString('hex') });
    at = nul + 1 + hashBytes;
  }
  return entries;
}
