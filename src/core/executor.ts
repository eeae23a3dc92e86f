/** One command to run for a trial. */
export interface ExecutionRequest {
  trialId: number;
  command: string;
  cwd: string;
  /** The complete environment of the trial process. */
  env: Record<string, string>;
  budgetMs: number;
  graceMs: number;
  logPath: string;
  signal?: AbortSignal;
  onOutput?: (chunk: string) => void;
}

/** How a trial's process ended. */
export interface ExecutionResult {
  status: 'exited' | 'timeout' | 'interrupted' | 'spawn_error';
  exitCode: number | null;
  signal: string | null;
  wallMs: number;
  peakRssKb: number | null;
  logTail: string[];
  output: string;
  error?: string;
}

/**
 * Runs a trial's command somewhere (local process group, SLURM job) under a
 * hard time budget.
 */
export interface Executor {
  readonly kind: string;
  run(request: ExecutionRequest): Promise<ExecutionResult>;
}
