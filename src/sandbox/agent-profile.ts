/**
 * What a coding agent needs from the user's HOME and environment to reach
 * its model, and which of its files must not change under it because they
 * would run code in the user's own later sessions (hooks, MCP servers,
 * instructions). The profiles of known agents live with the command
 * proposer (proposers/command/agent-profiles.ts).
 */
export interface AgentProfile {
  /** For messages: `Claude Code`. */
  name: string;
  /** HOME-relative paths the agent reads and writes: credentials it refreshes, sessions, caches. */
  writable: readonly string[];
  /** HOME-relative paths the agent only reads (not hidden like other credentials). */
  readable: readonly string[];
  /** HOME-relative paths inside `writable` ones that stay read-only, and must not be created either. */
  readOnlyInside: readonly string[];
  /** Files the agent rewrites whose parts that start programs must not change: `pick` returns those parts. */
  guarded: readonly { path: string; pick: (json: unknown) => unknown }[];
  /** Variables it needs (names or `*` globs): its API keys and settings. */
  env: readonly string[];
}

/**
 * Several profiles as one (for an agent command Strata does not recognize,
 * which may wrap any of them).
 *
 * @example
 * mergeProfiles('an unrecognized agent', [claude, codex]).writable; // ['.claude', '.claude.json', …, '.codex']
 */
export function mergeProfiles(name: string, profiles: readonly AgentProfile[]): AgentProfile {
  return {
    name,
    writable: profiles.flatMap((profile) => profile.writable),
    readable: profiles.flatMap((profile) => profile.readable),
    readOnlyInside: profiles.flatMap((profile) => profile.readOnlyInside),
    guarded: profiles.flatMap((profile) => profile.guarded),
    env: [...new Set(profiles.flatMap((profile) => profile.env))],
  };
}
