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
  /** Called once the run has an id outside this process (a SLURM job id), so a restarted orchestrator can find it. */
  onExternalId?: (externalId: string) => void;
  /** Re-attach to this already-running external job (after an orchestrator restart) instead of starting a new one. */
  attachTo?: string;
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
  /**
   * Is the external job still queued or running? Executors whose runs outlive
   * the orchestrator (SLURM) implement it; recovery then re-attaches instead
   * of re-running.
   */
  isActive?(externalId: string): Promise<boolean>;
  /** Stop an external job the ledger still names but no trial will wait for. */
  cancel?(externalId: string): Promise<void>;
}
