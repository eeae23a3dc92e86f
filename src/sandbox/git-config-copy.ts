/**
 * A repository's git config, and the user's own (`~/.gitconfig`,
 * `~/.config/git/config`), as a sandboxed process may read them: the same
 * files without the credentials people leave in them (a token in a remote
 * URL from `git clone https://<token>@github.com/…` or in an `insteadOf`
 * URL, an `http.extraHeader` with a bearer token). git inside the sandbox
 * still works; the token is not there to read.
 */
import { mkdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gitLocations } from '../integrity/git-locations.ts';
import { credentialHomes } from './credential-paths.ts';

/** The user's own git config files, under each credential HOME. */
const USER_CONFIGS = ['.gitconfig', '.config/git/config'];

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
 * For each git config that holds credentials (the repository's at
 * `repoRoot`, the user's own): write the cleaned copy into `folder` and
 * return which file it stands in for.
 *
 * @example
 * const replaced = cleanGitConfigCopy(repoRoot, scratch); // [{ path: '/repo/.git/config', source: '/repo/.strata/sandbox/s/git-config' }]
 */
export function cleanGitConfigCopy(repoRoot: string, folder: string): { path: string; source: string }[] {
  const locations = gitLocations(repoRoot);
  const paths = [...(locations ? [join(locations.commonDir, 'config')] : []), ...credentialHomes().flatMap((home) => USER_CONFIGS.map((name) => join(home, name)))];
  const replaced: { path: string; source: string }[] = [];
  for (const path of new Set(paths.map(realPath).filter((found): found is string => found !== null && statSync(found).isFile()))) {
    const cleaned = withoutCredentials(readFileSync(path, 'utf8'));
    if (cleaned === null) continue;
    mkdirSync(folder, { recursive: true });
    const source = join(folder, replaced.length === 0 ? 'git-config' : `git-config-${replaced.length}`);
    writeFileSync(source, cleaned);
    replaced.push({ path, source });
  }
  return replaced;
}

/** Where a config file finally is (a dotfiles manager links ~/.gitconfig elsewhere); null when there is none. */
function realPath(path: string): string | null {
  try {
    return realpathSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return null;
    throw error;
  }
}
