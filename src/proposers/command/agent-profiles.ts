/**
 * What the coding agents Strata knows need in their sandbox (see
 * sandbox/agent-profile.ts): their own state in HOME, their API keys, and
 * the files that would start programs in the user's own sessions, kept as
 * they are. An agent command Strata does not recognize (a wrapper script)
 * gets all of them; `research.agent_sandbox` adds more.
 */
import { basename } from 'node:path';
import { mergeProfiles, type AgentProfile } from '../../sandbox/agent-profile.ts';

/** Claude Code's MCP servers, globally and per project: each is a program it starts. */
function claudeMcpServers(json: unknown): unknown {
  const config = (json ?? {}) as { mcpServers?: unknown; projects?: Record<string, { mcpServers?: unknown; enabledMcpjsonServers?: unknown; enableAllProjectMcpServers?: unknown }> };
  const projects: Record<string, unknown> = {};
  for (const [path, project] of Object.entries(config.projects ?? {})) {
    const servers = { mcpServers: project?.mcpServers, enabledMcpjsonServers: project?.enabledMcpjsonServers, enableAllProjectMcpServers: project?.enableAllProjectMcpServers };
    if (Object.values(servers).some((value) => value !== undefined)) projects[path] = servers;
  }
  return { mcpServers: config.mcpServers, projects };
}

export const CLAUDE_CODE: AgentProfile = {
  name: 'Claude Code',
  // ~/.claude.json is rewritten on every run; its credentials (and the OAuth refresh) live in ~/.claude.
  writable: ['.claude', '.claude.json', '.local/state/claude', '.cache/claude'],
  readable: [],
  readOnlyInside: ['.claude/settings.json', '.claude/settings.local.json', '.claude/CLAUDE.md', '.claude/commands', '.claude/agents', '.claude/hooks', '.claude/plugins', '.claude/skills', '.claude/output-styles'],
  guarded: [{ path: '.claude.json', pick: claudeMcpServers }],
  env: ['ANTHROPIC_*', 'CLAUDE_*'],
};

export const CODEX: AgentProfile = {
  name: 'Codex CLI',
  writable: ['.codex'],
  readable: [],
  readOnlyInside: ['.codex/config.toml', '.codex/AGENTS.md', '.codex/prompts', '.codex/skills', '.codex/rules'],
  guarded: [],
  env: ['OPENAI_*', 'CODEX_*', 'AZURE_OPENAI_*'],
};

export const GEMINI_CLI: AgentProfile = {
  name: 'Gemini CLI',
  writable: ['.gemini'],
  readable: [],
  readOnlyInside: ['.gemini/settings.json', '.gemini/GEMINI.md', '.gemini/commands', '.gemini/extensions'],
  guarded: [],
  env: ['GEMINI_*', 'GOOGLE_API_KEY', 'GOOGLE_GENAI_*', 'GOOGLE_CLOUD_PROJECT', 'GOOGLE_CLOUD_LOCATION'],
};

export const AIDER: AgentProfile = {
  name: 'aider',
  writable: ['.aider'],
  readable: ['.aider.conf.yml'],
  readOnlyInside: [],
  guarded: [],
  env: ['AIDER_*', 'OPENAI_*', 'ANTHROPIC_*', 'GEMINI_*', 'OPENROUTER_*', 'DEEPSEEK_*', 'MISTRAL_*', 'GROQ_*', 'XAI_*'],
};

const BY_PROGRAM: Record<string, AgentProfile> = { claude: CLAUDE_CODE, codex: CODEX, gemini: GEMINI_CLI, aider: AIDER };

/**
 * The profile of the agent an `agent_command` runs, by its program's name.
 *
 * @example
 * agentProfile('claude -p --permission-mode acceptEdits').name; // 'Claude Code'
 * agentProfile('./my-agent.sh').name; // 'an unrecognized agent (Claude Code, Codex CLI, Gemini CLI or aider)'
 */
export function agentProfile(command: string): AgentProfile {
  // The first word that is not a VAR=value assignment is the program.
  const program = command.trim().split(/\s+/).find((word) => !/^[A-Za-z_]\w*=/.test(word)) ?? '';
  const known = BY_PROGRAM[basename(program)];
  if (known) return known;
  const all = Object.values(BY_PROGRAM);
  return mergeProfiles(`an unrecognized agent (${all.map((profile) => profile.name).join(', ').replace(/, ([^,]*)$/, ' or $1')})`, all);
}
