/**
 * Variables a trial never inherits from the orchestrator (unless
 * `research.env` passes them by name): anything that looks like a
 * credential, and handles to the user's agents and sessions (ssh-agent,
 * gpg-agent, Kerberos tickets, the desktop bus), through which a trial could
 * act as the user without ever seeing a key.
 */
const CREDENTIAL = /(^|_)(API_?KEY|KEY|KEYS|TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|CREDENTIALS?|AUTH|COOKIE|DSN)(_|$)|^AWS_|^AZURE_|^GOOGLE_APPLICATION|^OPENAI|^ANTHROPIC|^HF_TOKEN$|^DATABASE_URL$/i;
const SESSION_HANDLES = new Set(['SSH_AUTH_SOCK', 'SSH_AGENT_PID', 'GPG_AGENT_INFO', 'KRB5CCNAME', 'DBUS_SESSION_BUS_ADDRESS', 'XAUTHORITY', 'GIT_ASKPASS', 'SSH_ASKPASS']);
/** Where programs keep per-user state; they must follow the trial's own HOME. */
const HOME_DERIVED = /^XDG_(CACHE|CONFIG|DATA|STATE|RUNTIME)_(HOME|DIR)$/;

/** Is this variable withheld from trials by default? */
export function isWithheld(name: string): boolean {
  return CREDENTIAL.test(name) || SESSION_HANDLES.has(name) || HOME_DERIVED.test(name);
}

/**
 * The environment of a trial process: `env` without withheld variables
 * (except those named in `explicit`, which `research.env` set on purpose),
 * with HOME, TMPDIR (and TMP, TEMP) pointing at the trial's own folders
 * (unless `research.env` names them) and `extra` (the STRATA_* variables of
 * the sandbox) on top. STRATA_WITHHELD names (never shows) what was withheld.
 *
 * @example
 * scrubEnvironment({ PATH: '/bin', OPENAI_API_KEY: 'sk-…', HOME: '/home/me' }, { explicit: [], home: '/s/home', tmp: '/s/tmp' });
 * // { PATH: '/bin', HOME: '/s/home', TMPDIR: '/s/tmp', TMP: '/s/tmp', TEMP: '/s/tmp' }
 */
export function scrubEnvironment(
  env: Readonly<Record<string, string>>,
  options: {
    explicit: readonly string[];
    home: string;
    tmp: string;
    extra?: Readonly<Record<string, string>>;
    /** The orchestrator's own environment, when `env` was already filtered: its withheld names are reported too. */
    original?: Readonly<Record<string, string | undefined>>;
  },
): Record<string, string> {
  const explicit = new Set(options.explicit);
  const scrubbed: Record<string, string> = {};
  const withheld: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (isWithheld(name) && !explicit.has(name)) {
      withheld.push(name);
      continue;
    }
    scrubbed[name] = value;
  }
  for (const name of Object.keys(options.original ?? {})) {
    if (isWithheld(name) && !explicit.has(name) && !(name in env) && !withheld.includes(name)) withheld.push(name);
  }
  // Names only, never values: a trial that looks for a key can see why it is missing.
  if (withheld.length > 0) scrubbed.STRATA_WITHHELD = withheld.sort().join(' ');
  const own: Record<string, string> = { HOME: options.home, TMPDIR: options.tmp, TMP: options.tmp, TEMP: options.tmp };
  for (const [name, value] of Object.entries(own)) {
    // research.env may name HOME on purpose (a shared model cache); everything else gets the trial's own folders.
    if (!explicit.has(name)) scrubbed[name] = value;
  }
  return Object.assign(scrubbed, options.extra ?? {});
}
