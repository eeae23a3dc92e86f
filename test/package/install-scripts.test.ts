import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * `npm ci` on a fresh clone warned "1 package has install scripts not yet
 * covered by allowScripts: node@… (preinstall …)" for the pinned runtime.
 * npm's own `install-scripts ls` is the list that warning prints.
 */

const ROOT = resolve(import.meta.dirname, '../..');

describe('install scripts of the clone', () => {
  it('every installed dependency with an install script is covered by allowScripts (npm ci says nothing of them)', (context) => {
    // The pinned runtime is installed and has its install script: there is something to cover.
    const pinned = JSON.parse(readFileSync(join(ROOT, 'node_modules/node/package.json'), 'utf8')) as { scripts?: Record<string, string> };
    expect(pinned.scripts?.preinstall).toBeDefined();

    const listed = spawnSync('npm', ['install-scripts', 'ls'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    if (/unknown command/i.test(`${listed.stdout}${listed.stderr}`)) {
      const version = spawnSync('npm', ['--version'], { encoding: 'utf8' }).stdout.trim();
      context.skip(`npm ${version} has no install-scripts command (nor allowScripts): its npm ci runs install scripts without asking`);
    }
    expect(listed.status, listed.stderr).toBe(0);
    expect(listed.stdout.trim()).toBe('No packages with unreviewed install scripts.');
  });
});
