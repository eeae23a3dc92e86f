import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The JSON Schema of strata.yaml this installation ships: schema/ at the package root, reached alike from src/init/ (a clone) and dist/init/ (the package). */
export const SCHEMA_PATH = fileURLToPath(new URL('../../schema/strata.schema.json', import.meta.url));

/**
 * What strata.yaml at `configPath` should write after `$schema=` so an editor
 * finds the schema of the strata that wrote it. Inside the project's
 * repository (strata installed in its node_modules, or the config in
 * strata's own clone) it is a relative path, which holds for every clone of
 * the project; outside it (npx, a global install, a clone elsewhere; a
 * Python repository has no node_modules) it is the absolute path, which
 * holds on this machine.
 *
 * @example
 * schemaReference('/repo/strata.yaml', '/repo/node_modules/strata/schema/strata.schema.json');
 * // './node_modules/strata/schema/strata.schema.json'
 */
export function schemaReference(configPath: string, schemaPath: string = SCHEMA_PATH): string {
  const folder = dirname(resolve(configPath));
  const inside = relative(projectRoot(folder), schemaPath);
  if (inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) return schemaPath;
  const path = relative(folder, schemaPath).split(sep).join('/');
  return path.startsWith('../') ? path : `./${path}`;
}

/** The nearest folder holding `.git` (a repository or worktree root), else the config's own folder. */
function projectRoot(folder: string): string {
  for (let dir = folder; ; dir = dirname(dir)) {
    if (existsSync(join(dir, '.git'))) return dir;
    if (dirname(dir) === dir) return folder;
  }
}
