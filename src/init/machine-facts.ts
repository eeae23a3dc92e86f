import { homedir } from 'node:os';
import { findExecutable } from '../proposers/command/find-executable.ts';
import type { MachineFacts } from './detect-project.ts';

/**
 * This machine as `strata init` sees it: commands found on PATH (uv, python3,
 * claude) and the environment, whose API key variables are only tested for
 * presence, never written into the config.
 *
 * @example
 * machineFacts().hasCommand('uv'); // true when uv is installed
 */
export function machineFacts(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): MachineFacts {
  const cache = new Map<string, boolean>();
  return {
    env,
    home: env.HOME ?? homedir(),
    hasCommand(name) {
      let found = cache.get(name);
      if (found === undefined) {
        found = findExecutable(name, env.PATH ?? '', cwd) !== undefined;
        cache.set(name, found);
      }
      return found;
    },
  };
}
