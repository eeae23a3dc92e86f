import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** The nearest folder at or above `dir` holding `.git` (a folder, or a file in worktrees), found without running git. */
export function repositoryRoot(dir: string): string | undefined {
  for (let current = resolve(dir); ; current = dirname(current)) {
    if (existsSync(join(current, '.git'))) return current;
    if (dirname(current) === current) return undefined;
  }
}

/**
 * Where Strata keeps its ledger, logs and worktrees for a project folder:
 * `<repository root>/.strata`, or `<dir>/.strata` outside a repository
 * (evolve studies need no git).
 */
export function stateDirFor(dir: string): string {
  return join(repositoryRoot(dir) ?? resolve(dir), '.strata');
}

/** The ledger file for a project folder. */
export function ledgerPathFor(dir: string): string {
  return join(stateDirFor(dir), 'ledger.db');
}
