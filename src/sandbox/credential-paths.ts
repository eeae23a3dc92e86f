/**
 * Files where coding agents, clouds, package managers and shells keep
 * credentials, covered up in every sandbox (a file by an empty one, a folder
 * by a read-only folder that says why). Trials never need any of them; a
 * command proposer's agent keeps only its own (see agent-profiles.ts).
 *
 * Paths under HOME are relative to it; the system ones are absolute and
 * matter when Strata runs as root, whose uid owns them.
 */
import { homedir, userInfo } from 'node:os';
import { isAbsolute, join } from 'node:path';

/** Under the user's HOME. */
export const HOME_CREDENTIALS: readonly string[] = [
  // Coding agents and LLM clients.
  '.claude',
  '.claude.json',
  '.codex',
  '.gemini',
  '.cursor',
  '.aider.conf.yml',
  '.config/github-copilot',
  '.config/strata',
  // Clouds and clusters.
  '.aws',
  '.azure',
  '.config/gcloud',
  '.oci',
  '.kube',
  '.config/doctl',
  '.databrickscfg',
  '.modal.toml',
  '.vast_api_key',
  '.lambda_cloud',
  '.runpod',
  '.terraform.d/credentials.tfrc.json',
  '.vault-token',
  '.s3cfg',
  '.boto',
  '.config/rclone',
  // Source hosting, ssh and signing.
  '.ssh',
  '.gnupg',
  '.netrc',
  '.git-credentials',
  '.config/git/credentials',
  '.config/gh',
  '.config/hub',
  '.password-store',
  '.local/share/keyrings',
  // Package registries and containers.
  '.docker/config.json',
  '.npmrc',
  '.yarnrc.yml',
  '.pypirc',
  '.config/pip/pip.conf',
  '.pip/pip.conf',
  '.cargo/credentials',
  '.cargo/credentials.toml',
  '.gem/credentials',
  '.m2/settings.xml',
  '.gradle/gradle.properties',
  // Model hubs and experiment trackers (wandb keeps its key in ~/.netrc).
  '.huggingface/token',
  '.cache/huggingface/token',
  '.cache/huggingface/stored_tokens',
  '.kaggle/kaggle.json',
  '.config/wandb',
  '.comet.config',
  '.neptune',
  // Databases.
  '.pgpass',
  '.my.cnf',
  // Shell and REPL histories: where a pasted `export API_KEY=…` lives on.
  '.bash_history',
  '.zsh_history',
  '.local/share/fish/fish_history',
  '.python_history',
  '.node_repl_history',
  '.psql_history',
  '.mysql_history',
];

/** Readable by uid 0 even without capabilities (it owns them). */
export const SYSTEM_CREDENTIALS: readonly string[] = ['/etc/shadow', '/etc/shadow-', '/etc/gshadow', '/etc/gshadow-', '/etc/ssh', '/etc/ssl/private', '/etc/sudoers', '/etc/sudoers.d'];

/** Secrets a project keeps in its own folder, untracked: `.env` and friends at the repository root. */
export const PROJECT_CREDENTIALS: readonly string[] = ['.env', '.env.local', '.envrc', '.netrc'];

/**
 * The HOME folders whose credentials are hidden: $HOME and the account's
 * own home (they differ under sudo, or when a caller set HOME).
 *
 * @example
 * credentialHomes(); // ['/root'] or ['/home/me', '/root']
 */
export function credentialHomes(): string[] {
  const homes = [homedir()];
  try {
    homes.push(userInfo().homedir);
  } catch (error) {
    // No passwd entry for this uid (a container started with --user 1234): $HOME is all there is.
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  return [...new Set(homes.filter((home) => isAbsolute(home) && home !== '/'))];
}

/**
 * Every credential path to cover for this process's user, except `keep`
 * (HOME-relative entries the agent needs, e.g. `.claude`) and those the
 * config names itself in `granted` (absolute: `sandbox_writable: [~/.aws]`
 * for a trial that must read it). A granted folder above a credential
 * (`~`) does not uncover it: only naming the credential, or a path in it, does.
 *
 * @example
 * credentialPaths({ keep: ['.codex'] }); // ['/root/.claude', …, '/etc/shadow', …] without /root/.codex
 */
export function credentialPaths(options: { keep?: readonly string[]; granted?: readonly string[] } = {}): string[] {
  const keep = new Set(options.keep ?? []);
  const granted = options.granted ?? [];
  const named = (path: string) => granted.some((grant) => grant === path || grant.startsWith(`${path}/`));
  const paths: string[] = [];
  for (const home of credentialHomes()) for (const path of HOME_CREDENTIALS) if (!keep.has(path)) paths.push(join(home, path));
  return [...paths, ...SYSTEM_CREDENTIALS].filter((path) => !named(path));
}
