import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * A clone run by a system Node older than type stripping needs (a system Node
 * 20, through `npm link` or `npx --prefix`): the real bin in a real process,
 * only the version it sees faked, as a Node 20 would report it.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const NODE_20 = 'data:text/javascript,Object.defineProperty(process,"version",{value:"v20.20.2"});Object.defineProperty(process.versions,"node",{value:"20.20.2"})';
const onNode20 = (bin: string, ...args: string[]) =>
  spawnSync(process.execPath, ['--import', NODE_20, bin, ...args], { cwd: tmpdir(), encoding: 'utf8', timeout: 60_000 });

describe('the clone on an older Node', () => {
  it('re-runs itself on the Node 22 the clone pins (npm ci installed it)', () => {
    const run = onNode20(join(ROOT, 'bin/strata.js'), '--version');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toBe(VERSION);
  });

  it('without the pinned Node (no npm ci yet) says in one line what to run', () => {
    const clone = mkdtempSync(join(tmpdir(), 'strata-clone-'));
    mkdirSync(join(clone, 'bin'));
    mkdirSync(join(clone, 'src/cli'), { recursive: true });
    copyFileSync(join(ROOT, 'bin/strata.js'), join(clone, 'bin/strata.js'));
    writeFileSync(join(clone, 'src/cli/run.ts'), 'export async function run(): Promise<void> {}\n');
    const run = onNode20(join(clone, 'bin/strata.js'), '--version');
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      'strata needs Node.js 22.18 or newer to run from its sources (this is v20.20.2). Run `npm ci` in the strata folder (it installs the pinned Node 22), or install Node 22 LTS.\n',
    );
  });
});
