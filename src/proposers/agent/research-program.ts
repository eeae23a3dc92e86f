import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ResearchConfig } from '../../core/config/research-config.ts';
import { formatDuration } from '../../core/duration.ts';
import { ConfigError } from '../../core/errors.ts';

/** The built-in program.md (templates/program.md in the package). */
export const DEFAULT_PROGRAM_PATH = fileURLToPath(new URL('../../../templates/program.md', import.meta.url));

/**
 * The research program the agent follows: `research.program` (relative to the
 * config's folder) or the built-in template, with `{{metric}}`, `{{goal}}`,
 * `{{budget}}`, `{{run}}`, `{{editable}}` and `{{protected}}` filled in from
 * the config (so one template serves every study). A missing file is a
 * config error, never a silent fallback to the template.
 *
 * @example
 * const program = loadProgram(research, dirname(configPath)); // the text the agent is told first
 */
export function loadProgram(research: ResearchConfig, configDir: string): string {
  const configured = research.agent.program;
  const path = configured === undefined ? DEFAULT_PROGRAM_PATH : isAbsolute(configured) ? configured : join(configDir, configured);
  if (!existsSync(path)) {
    throw new ConfigError([{ path: 'research.program', message: `${path} does not exist; write it, or remove research.program to use the built-in template` }]);
  }
  return fillProgram(readFileSync(path, 'utf8'), research);
}

/** Replace the `{{name}}` placeholders a program may use; unknown ones stay as written. */
export function fillProgram(text: string, research: ResearchConfig): string {
  const list = (globs: readonly string[]) => (globs.length === 0 ? '(none)' : globs.map((glob) => `\`${glob}\``).join(', '));
  const values: Record<string, string> = {
    metric: research.metric.name,
    goal: research.metric.goal,
    budget: formatDuration(research.budgetMs),
    run: research.run,
    editable: list(research.editable),
    protected: list(research.protected),
  };
  return text.replace(/\{\{\s*(\w+)\s*\}\}/g, (whole, name: string) => values[name] ?? whole);
}
