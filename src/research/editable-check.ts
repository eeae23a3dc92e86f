import { matchesGlob, posix } from 'node:path';
import type { ChangedPath } from '../workspace/study-repository.ts';

/**
 * Paths a candidate changed that it was not allowed to: anything outside the
 * project folder, or inside it but matching no `editable` glob. `alsoAllowed`
 * names files a proposer writes by contract (the search proposer's params file).
 */
export function forbiddenChanges(
  changes: readonly ChangedPath[],
  options: { projectPrefix: string; editable: readonly string[]; alsoAllowed?: readonly string[] },
): string[] {
  const prefix = options.projectPrefix === '' ? '' : `${options.projectPrefix.replace(/\/+$/, '')}/`;
  const forbidden: string[] = [];
  for (const change of changes) {
    if (!change.path.startsWith(prefix)) {
      forbidden.push(change.path);
      continue;
    }
    const inside = posix.normalize(change.path.slice(prefix.length));
    const allowed =
      (options.alsoAllowed ?? []).includes(inside) || options.editable.some((glob) => matchesGlob(inside, glob));
    if (!allowed) forbidden.push(change.path);
  }
  return forbidden;
}
