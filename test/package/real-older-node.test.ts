import { spawnSync } from 'node:child_process';
import { accessSync, constants, copyFileSync, mkdirSync, mkdtempSync, readFileSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The bin on a real older Node, not one whose version is faked: the other
 * tests run the pinned Node 22 and only change the version it reports, which
 * cannot catch a bin that an old Node fails to parse or load (then a user sees
 * a SyntaxError or a stack trace instead of the one line). The Node is the
 * first on PATH older than engines.node (a system Node 20 here), or
 * STRATA_OLD_NODE; without one the tests are skipped with the reason.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; engines: { node: string } };
const floor = /^>=\s*(\d+)\.(\d+)/.exec(manifest.engines.node)!;
const FLOOR: [number, number] = [Number(floor[1]), Number(floor[2])];

/** A Node older than the floor, with the version it reports, or undefined. */
function findOlderNode(): { path: string; version: string } | undefined {
  const candidates = process.env.STRATA_OLD_NODE ? [process.env.STRATA_OLD_NODE] : (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, 'node'));
  const pinned = realpathSync(process.execPath);
  for (const candidate of candidates) {
    let path: string;
    try {
      accessSync(candidate, constants.X_OK);
      path = realpathSync(candidate);
    } catch {
      continue; // not there, or not executable: try the next folder of PATH
    }
    if (path === pinned) continue;
    const version = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 30_000 }).stdout?.trim() ?? '';
    const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number);
    if (/^v\d+\.\d+\.\d+$/.test(version) && (major < FLOOR[0] || (major === FLOOR[0] && minor < FLOOR[1]))) return { path, version };
  }
  return undefined;
}

const older = findOlderNode();
const skipped = older ? '' : ` — skipped: no Node older than ${FLOOR.join('.')} on PATH (set STRATA_OLD_NODE to one)`;

describe(`strata on a real older Node${older ? ` (${older.version})` : ''}`, () => {
  it.skipIf(!older)(`an installed copy prints one line naming the version it needs and how to get it${skipped}`, () => {
    // Laid out as npm installs it: no src/ beside the bin, under node_modules.
    const project = mkdtempSync(join(tmpdir(), 'strata-older-node-'));
    const installed = join(project, 'node_modules/strata');
    mkdirSync(join(installed, 'bin'), { recursive: true });
    copyFileSync(join(ROOT, 'bin/strata.js'), join(installed, 'bin/strata.js'));
    copyFileSync(join(ROOT, 'package.json'), join(installed, 'package.json'));
    const run = spawnSync(older!.path, [join(installed, 'bin/strata.js'), 'init', '--force'], { cwd: project, encoding: 'utf8', timeout: 60_000 });
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      `strata needs Node.js ${FLOOR.join('.')} or newer (this is ${older!.version}): install Node ${FLOOR[0]} LTS (https://nodejs.org), or run \`npx -p node@${FLOOR[0]} strata init --force\`\n`,
    );
    expect(run.status).toBe(1);
  });

  it.skipIf(!older)(`the clone re-runs itself on the Node it pins${skipped}`, () => {
    const run = spawnSync(older!.path, [join(ROOT, 'bin/strata.js'), '--version'], { cwd: tmpdir(), encoding: 'utf8', timeout: 60_000 });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe(manifest.version);
    expect(run.status).toBe(0);
  });
});
