/**
 * A repository's git config as a sandboxed process may read it: the same
 * file without the credentials people leave in it (a token in a remote URL
 * from `git clone https://<token>@github.com/…`, an `http.extraHeader`
 * with a bearer token). git inside the sandbox still works; the token is
 * not there to read.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gitLocations } from '../integrity/git-locations.ts';

/**
 * The config text without credentials, or null when there were none.
 *
 * @example
 * withoutCredentials('[remote "origin"]\n\turl = https://ghp_x@github.com/me/r\n'); // '[remote "origin"]\n\turl = https://github.com/me/r\n'
 */
export function withoutCredentials(config: string): string | null {
  const cleaned = config
    .split('\n')
    .map((line) => (/^\s*extraheader\s*=/i.test(line) ? line.replace(/=.*/, '= (removed by Strata)') : line.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi, '$1')))
    .join('\n');
  return cleaned === config ? null : cleaned;
}

/**
 * When the config of the repository at `repoRoot` holds credentials: write
 * the cleaned copy into `folder` and return which file it stands in for.
 *
 * @example
 * const replaced = cleanGitConfigCopy(repoRoot, scratch); // [{ path: '/repo/.git/config', source: '/repo/.strata/sandbox/s/git-config' }]
 */
export function cleanGitConfigCopy(repoRoot: string, folder: string): { path: string; source: string }[] {
  const locations = gitLocations(repoRoot);
  if (!locations) return [];
  const path = join(locations.commonDir, 'config');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const cleaned = withoutCredentials(text);
  if (cleaned === null) return [];
  mkdirSync(folder, { recursive: true });
  const source = join(folder, 'git-config');
  writeFileSync(source, cleaned);
  return [{ path, source }];
}
