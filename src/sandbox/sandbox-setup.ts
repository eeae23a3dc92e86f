/**
 * Pieces the trial sandbox and the agent sandbox share: the folder bound
 * over hidden folders, and telling a sandbox that could not be set up from
 * a command that failed inside it.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HIDDEN_NOTE } from './contain-command.ts';

/**
 * The read-only folder shown in place of hidden ones, made once in `scratchDir`.
 *
 * @example
 * const markerDir = hiddenMarkerFolder('/repo/.strata/sandbox/study'); // '/repo/.strata/sandbox/study/hidden'
 */
export function hiddenMarkerFolder(scratchDir: string): string {
  const folder = join(scratchDir, 'hidden');
  const note = join(folder, 'STRATA-HIDDEN.txt');
  if (!existsSync(note)) {
    mkdirSync(folder, { recursive: true });
    writeFileSync(note, HIDDEN_NOTE);
  }
  return folder;
}

/**
 * Why the sandbox never started the command, or null when it did: bubblewrap
 * writes `exit-code` to its status file once the command ran, so a failed
 * run without it failed in the setup (bubblewrap says what on stderr).
 * What the command inside prints cannot fake this: it never sees the file.
 *
 * @example
 * setupFailure(result, statusFile); // 'bwrap: Can\'t mount tmpfs on /newroot/run: Permission denied'
 */
export function setupFailure(result: { status: string; exitCode: number | null; output: string }, statusFile: string): string | null {
  if (result.status !== 'exited' || result.exitCode === 0) return null;
  // Killed by a signal from outside (the OOM killer, another program): bubblewrap did not refuse the setup, which it
  // reports with an exit code and a line of its own. The run is judged as the crash it is.
  if (result.exitCode === null) return null;
  let status = '';
  try {
    status = readFileSync(statusFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (/"exit-code"/.test(status)) return null;
  const lines = result.output.split('\n');
  const said = lines.find((line) => /^(bwrap|prlimit|strata sandbox):/.test(line)) ?? lines.find((line) => line.trim() !== '');
  return said ?? `the sandbox exited with ${result.exitCode} before starting the command`;
}
