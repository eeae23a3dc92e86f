/** SLURM job states a job can still leave: it is queued, running, or on its way out. */
const ACTIVE = new Set(['PENDING', 'CONFIGURING', 'RUNNING', 'COMPLETING', 'SUSPENDED', 'REQUEUED', 'REQUEUE_FED', 'REQUEUE_HOLD', 'RESIZING', 'SIGNALING', 'STAGE_OUT', 'STOPPED', 'RESV_DEL_HOLD']);

/** What SLURM says about one job. */
export interface JobInfo {
  /** Base state, e.g. RUNNING, COMPLETED, TIMEOUT, CANCELLED, NODE_FAIL (flags and "by <uid>" dropped). */
  state: string;
  /** Exit code of the batch script, when SLURM reports one. */
  exitCode: number | null;
  /** Signal that ended it, when SLURM reports one. */
  signal: number | null;
  reason: string | null;
}

/** Is a job in `state` still queued or running (or finishing)? */
export function isActiveState(state: string): boolean {
  return ACTIVE.has(state);
}

/** `CANCELLED by 0` → `CANCELLED`; `COMPLETED+` → `COMPLETED`. */
export function baseState(raw: string): string {
  return raw.trim().split(/[\s+]/)[0] ?? '';
}

/**
 * Parse one line of `scontrol show job -o <id>` (space-separated Key=Value
 * pairs). Returns null when the line names no job state.
 *
 * @example
 * parseScontrolJob('JobId=7 JobState=COMPLETED Reason=None ExitCode=0:0'); // { state: 'COMPLETED', exitCode: 0, signal: 0, reason: null }
 */
export function parseScontrolJob(line: string): JobInfo | null {
  const fields = new Map<string, string>();
  for (const match of line.matchAll(/(\w+)=(\S*)/g)) if (!fields.has(match[1]!)) fields.set(match[1]!, match[2]!);
  const state = fields.get('JobState');
  if (!state) return null;
  const [code, signal] = (fields.get('ExitCode') ?? '').split(':');
  const reason = fields.get('Reason');
  return {
    state: baseState(state),
    exitCode: code !== undefined && code !== '' ? Number(code) : null,
    signal: signal !== undefined && signal !== '' ? Number(signal) : null,
    reason: reason && reason !== 'None' ? reason : null,
  };
}

/**
 * Parse `sacct -j <id> -n -P -X -o State,ExitCode` (one allocation line).
 * Returns null for empty output.
 */
export function parseSacctJob(output: string): JobInfo | null {
  const line = output.split('\n').find((row) => row.trim() !== '');
  if (!line) return null;
  const [state, exit] = line.split('|');
  const [code, signal] = (exit ?? '').split(':');
  return { state: baseState(state ?? ''), exitCode: code ? Number(code) : null, signal: signal ? Number(signal) : null, reason: null };
}

/** Parse a sacct MaxRSS value (`123456K`, `1.5G`) into KiB. */
export function parseMaxRssKb(value: string): number | null {
  const match = /^([\d.]+)([KMGT]?)$/.exec(value.trim());
  if (!match) return null;
  const scale = { '': 1 / 1024, K: 1, M: 1024, G: 1024 ** 2, T: 1024 ** 3 }[match[2] as '' | 'K' | 'M' | 'G' | 'T'];
  return Math.round(Number(match[1]) * scale);
}
