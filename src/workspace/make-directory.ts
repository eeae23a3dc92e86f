import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * Create `dir` and its missing parents, one `mkdir` each, and fail at the
 * first that fails. Node's own `mkdirSync(dir, { recursive: true })` can loop
 * forever inside a synchronous call (under /proc a mkdir answers ENOENT
 * though the parent exists, so it goes up and down again), which spins a core
 * and leaves no turn for a SIGTERM handler.
 *
 * @example
 * makeDirectory('/home/me/reports/2026'); // throws the first mkdir's error, e.g. EACCES or ENOENT
 */
export function makeDirectory(dir: string): void {
  const missing: string[] = [];
  for (let at = resolve(dir); ; at = dirname(at)) {
    const found = statSync(at, { throwIfNoEntry: false });
    if (found) {
      if (!found.isDirectory()) throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${at}'`), { code: 'ENOTDIR', path: at });
      break;
    }
    missing.push(at);
    if (dirname(at) === at) break;
  }
  for (const folder of missing.reverse()) mkdirSync(folder);
}
