// `npm run build`: compile src/ to dist/ (JavaScript, declarations, source maps) and copy the
// dashboard's static front end beside the compiled server. dist/ is emptied first so a file
// deleted from src/ cannot linger in a published package.
import { spawnSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const dist = resolve(root, 'dist');
rmSync(dist, { recursive: true, force: true });

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
// Everything goes to stderr: `npm pack --json` runs this as prepack, and its stdout is the JSON.
const compiled = spawnSync(process.execPath, [tsc, '-p', resolve(root, 'tsconfig.build.json')], { cwd: root, stdio: ['ignore', process.stderr, process.stderr] });
if (compiled.status !== 0) {
  process.stderr.write(`build: tsc failed (exit ${compiled.status ?? compiled.signal}); nothing usable is in dist/\n`);
  rmSync(dist, { recursive: true, force: true });
  process.exit(1);
}

// The compiled server reads its assets from ../static/ next to itself, as it does in src/.
cpSync(resolve(root, 'src/dashboard/static'), resolve(dist, 'dashboard/static'), { recursive: true });
process.stderr.write(`built ${dist}\n`);
