/**
 * Variables a sandboxed process never inherits from the orchestrator unless
 * the config passes them by name (`research.env`, `env_passthrough`):
 * anything whose name or value looks like a credential, and handles to the
 * user's agents and sessions (ssh-agent, gpg-agent, Kerberos tickets, the
 * desktop bus), through which a process could act as the user without ever
 * seeing a key.
 */

/**
 * Words that mark a secret anywhere in a name: PGPASSWORD, DB_PASS,
 * GITHUB_TOKEN, MY_APIKEY, AWS_SECRET_ACCESS_KEY. TOKEN is not a secret in
 * tokenizer settings (TOKENIZERS_PARALLELISM) or counts (MAX_NEW_TOKENS).
 */
const SECRET_WORDS = /PASS|TOKEN(?!I[SZ]|S(_|$))|SECRET|KEY|CREDENTIAL|PRIVATE/i;
/** Shorter words that only count as a whole part of the name (AUTH, not AUTHOR). */
const SECRET_PARTS = /(^|_)(AUTH|COOKIE|DSN|SESSION|SIGNATURE|CERT)(_|$)/i;
/** Whole families: cloud and model-provider settings are credentials or point at them. */
const SECRET_PREFIXES = /^(AWS_|AZURE_|GOOGLE_APPLICATION|GOOGLE_CLOUD|GCP_|OPENAI|ANTHROPIC|HF_TOKEN|HUGGING_FACE_HUB_TOKEN|DATABASE_URL|REDIS_URL|MONGO(DB)?_UR[IL])/i;
/**
 * Values that are credentials whatever the name: a URL with a password in it
 * (`postgres://user:pw@host`), and the shapes of common API keys and tokens.
 */
const SECRET_VALUES = [
  /\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@]+:[^\s/@]+@/i,
  /\bsk-[A-Za-z0-9_-]{20,}/,
  /\bgh[pousr]_[A-Za-z0-9]{30,}/,
  /\bgithub_pat_\w{40,}/,
  /\bglpat-[\w-]{20,}/,
  /\bhf_[A-Za-z0-9]{30,}/,
  /\b(AKIA|ASIA)[0-9A-Z]{16}\b/,
  /\bxox[abprs]-[\w-]{10,}/,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
];
const SESSION_HANDLES = new Set(['SSH_AUTH_SOCK', 'SSH_AGENT_PID', 'GPG_AGENT_INFO', 'KRB5CCNAME', 'DBUS_SESSION_BUS_ADDRESS', 'XAUTHORITY', 'GIT_ASKPASS', 'SSH_ASKPASS', 'SUDO_ASKPASS']);
/**
 * Names that match a secret word but are settings every ML stack uses, and
 * the variables that point at CA certificates (public; without them HTTPS
 * fails behind a private CA). Their values are still checked.
 */
const KNOWN_HARMLESS = new Set(['HF_HUB_DISABLE_IMPLICIT_TOKEN', 'SSL_CERT_FILE', 'SSL_CERT_DIR', 'NIX_SSL_CERT_FILE', 'PIP_CERT', 'AWS_CA_BUNDLE']);
/** Where programs keep per-user state; they must follow the process's own HOME when it has one. */
const HOME_DERIVED = /^XDG_(CACHE|CONFIG|DATA|STATE|RUNTIME)_(HOME|DIR)$/;

/**
 * Is this variable withheld by default? By its name, or by its value when one is given.
 *
 * @example
 * isWithheld('PGPASSWORD'); // true
 * isWithheld('PROXY', 'http://me:hunter2@proxy:3128'); // true
 * isWithheld('TOKENIZERS_PARALLELISM'); // false
 */
export function isWithheld(name: string, value?: string): boolean {
  if (SESSION_HANDLES.has(name) || HOME_DERIVED.test(name)) return true;
  if (!KNOWN_HARMLESS.has(name) && (SECRET_WORDS.test(name) || SECRET_PARTS.test(name) || SECRET_PREFIXES.test(name))) return true;
  return value !== undefined && SECRET_VALUES.some((pattern) => pattern.test(value));
}

/**
 * Does `name` match one of `patterns` (exact names, or globs with `*`: `WANDB_*`)?
 *
 * @example
 * matchesName('WANDB_API_KEY', ['WANDB_*']); // true
 */
export function matchesName(name: string, patterns: readonly string[]): boolean {
  return patterns.some((pattern) => (pattern.includes('*') ? new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`).test(name) : pattern === name));
}

export interface ScrubOptions {
  /** Names `research.env` set on purpose: they pass as they are. */
  explicit: readonly string[];
  /** Names or `*` globs the config lets through (`env_passthrough`); taken from `original` when `env` lacks them. */
  passthrough?: readonly string[];
  /** The process's own HOME; undefined keeps HOME (and the XDG folders) as they are (a coding agent needs its own config). */
  home?: string;
  tmp: string;
  extra?: Readonly<Record<string, string>>;
  /** The orchestrator's own environment, when `env` was already filtered: its withheld names are reported too. */
  original?: Readonly<Record<string, string | undefined>>;
}

/**
 * The environment of a sandboxed process: `env` without withheld variables
 * (except those the config names), with HOME (when given), TMPDIR, TMP and
 * TEMP pointing at the process's own folders (unless `research.env` names
 * them), and `extra` (the STRATA_* variables of the sandbox) on top.
 * STRATA_WITHHELD names (never shows) what was withheld.
 *
 * @example
 * scrubEnvironment({ PATH: '/bin', OPENAI_API_KEY: 'sk-…', HOME: '/home/me' }, { explicit: [], home: '/s/home', tmp: '/s/tmp' });
 * // { PATH: '/bin', HOME: '/s/home', TMPDIR: '/s/tmp', TMP: '/s/tmp', TEMP: '/s/tmp', STRATA_WITHHELD: 'OPENAI_API_KEY' }
 */
export function scrubEnvironment(env: Readonly<Record<string, string>>, options: ScrubOptions): Record<string, string> {
  const explicit = new Set(options.explicit);
  const passthrough = options.passthrough ?? [];
  const allowed = (name: string) => explicit.has(name) || matchesName(name, passthrough);
  const ownHome = options.home !== undefined;
  const withheldHere = (name: string, value: string | undefined) => !allowed(name) && (ownHome || !HOME_DERIVED.test(name)) && isWithheld(name, value);
  const scrubbed: Record<string, string> = {};
  const withheld = new Set<string>();
  for (const [name, value] of Object.entries(env)) {
    if (withheldHere(name, value)) withheld.add(name);
    else scrubbed[name] = value;
  }
  for (const [name, value] of Object.entries(options.original ?? {})) {
    if (value === undefined || name in env) continue;
    // A name the config lets through comes from the orchestrator even where an earlier filter dropped it.
    if (matchesName(name, passthrough) && !name.startsWith('STRATA_')) scrubbed[name] = value;
    else if (withheldHere(name, value)) withheld.add(name);
  }
  // Names only, never values: a process that looks for a key can see why it is missing.
  if (withheld.size > 0) scrubbed.STRATA_WITHHELD = [...withheld].sort().join(' ');
  const own: Record<string, string> = { ...(ownHome ? { HOME: options.home! } : {}), TMPDIR: options.tmp, TMP: options.tmp, TEMP: options.tmp };
  for (const [name, value] of Object.entries(own)) {
    // research.env may name HOME on purpose (a shared model cache); everything else gets the process's own folders.
    if (!explicit.has(name)) scrubbed[name] = value;
  }
  return Object.assign(scrubbed, options.extra ?? {});
}

function escapeRegExp(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}
