import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';

/**
 * The absolute path of a program as a shell would find it: a name with a
 * slash is taken relative to `cwd`, a bare name is looked up in `path`
 * (a PATH value). Undefined when there is no executable file.
 *
 * @example
 * findExecutable('claude', process.env.PATH ?? '', process.cwd()); // '/usr/local/bin/claude'
 */
export function findExecutable(program: string, path: string, cwd: string): string | undefined {
  const candidates = program.includes('/') ? [isAbsolute(program) ? program : resolve(cwd, program)] : path.split(delimiter).filter(Boolean).map((dir) => join(dir, program));
  return candidates.find(isExecutableFile);
}

function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'ENOTDIR') return false;
    throw error;
  }
}
