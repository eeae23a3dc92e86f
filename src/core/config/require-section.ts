import { ConfigError } from '../errors.ts';
import type { StudyConfig } from './parse-config.ts';

/** The top-level sections a command runs, each with the command that runs it. */
export type ConfigSection = 'research' | 'evolve' | 'pipeline';

const ARTICLE: Record<ConfigSection, string> = { research: 'a', evolve: 'an', pipeline: 'a' };

/**
 * Refuse a config that lacks the section `strata <section>` runs, naming the
 * sections the file does have and the commands that run them (an evolve-only
 * file given to `strata research` is a file for `strata evolve`).
 *
 * @example
 * requireSection(config, 'research', 'strata.yaml');
 * // ConfigError: research: missing: `strata research` needs a `research:` section; this file has `evolve:`: run `strata evolve`
 */
export function requireSection(config: StudyConfig, section: ConfigSection, file?: string): void {
  if (config.raw[section] !== undefined) return;
  const present = (['research', 'evolve', 'pipeline'] as const).filter((other) => config.raw[other] !== undefined);
  const hint =
    present.length === 0
      ? ' (see `strata init`)'
      : `; this file has ${present.map((other) => `\`${other}:\``).join(' and ')}: run ${present.map((other) => `\`strata ${other}\``).join(' or ')}`;
  throw new ConfigError([{ path: section, message: `missing: \`strata ${section}\` needs ${ARTICLE[section]} \`${section}:\` section${hint}` }], file);
}
