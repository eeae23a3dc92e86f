import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseConfig, type StudyConfig } from '../core/config/parse-config.ts';
import { requireSection, type ConfigSection } from '../core/config/require-section.ts';
import { ConfigError } from '../core/errors.ts';

/**
 * Read and validate a config file; a missing file gets an error that says how
 * to make one, and a file without the section `section` (the command's own)
 * one that says which command fits it.
 */
export function loadConfig(path: string, cwd: string, section?: ConfigSection): { path: string; config: StudyConfig } {
  const absolute = resolve(cwd, path);
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ConfigError([{ path: '', message: `no config file at ${absolute}: run \`strata init\` to write one, or pass --config <file>` }]);
    }
    throw error;
  }
  const config = parseConfig(text, path);
  if (section) requireSection(config, section, path);
  return { path: absolute, config };
}
