import { execFile } from 'node:child_process';
import { StrataError } from '../../core/errors.ts';

/** A SLURM command (sbatch, squeue, scontrol, sacct, scancel) failed or is missing. */
export class SlurmError extends StrataError {
  constructor(message: string, details: { command: string; args: readonly string[]; exitCode: number | null; stderr: string }) {
    super('slurm_failed', message, { details });
  }
}

export interface SlurmCommandResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/**
 * Run a SLURM client command with an argument array (never a shell string).
 * Rejects with SlurmError when the command cannot start (SLURM not installed)
 * or, unless `allowFailure`, exits non-zero.
 *
 * @example
 * const { stdout } = await slurmCommand('squeue', ['-h', '-j', '42', '-o', '%T']);
 */
export function slurmCommand(
  command: 'sbatch' | 'squeue' | 'scontrol' | 'sacct' | 'scancel',
  args: readonly string[],
  options: { env?: Record<string, string>; allowFailure?: boolean; timeoutMs?: number } = {},
): Promise<SlurmCommandResult> {
  return new Promise((resolve, reject) => {
    execFile(command, [...args], { env: options.env ?? process.env, timeout: options.timeoutMs ?? 60_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const exitCode = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      if (error && typeof error.code !== 'number') {
        const missing = error.code === 'ENOENT' ? `${command} not found: install the SLURM client tools (Debian: apt-get install slurm-client) or use research.executor.kind: local` : error.message;
        reject(new SlurmError(`${command} ${args.join(' ')} could not run: ${missing}`, { command, args, exitCode: null, stderr }));
        return;
      }
      if (error && !options.allowFailure) {
        reject(new SlurmError(`${command} ${args.join(' ')} failed (exit ${exitCode}): ${stderr.trim() || stdout.trim()}`, { command, args, exitCode, stderr }));
        return;
      }
      resolve({ stdout, stderr, exitCode });
    });
  });
}
