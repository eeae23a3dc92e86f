/**
 * One error hierarchy for Strata. Every error carries a stable `code`, structured
 * `details`, an optional `cause`, and a message that says what to fix.
 *
 * @example
 * throw new ConfigError([{ path: 'research.budget', message: 'expected a duration like 300s or 5m, got "fast"' }]);
 */
export class StrataError extends Error {
  readonly code: string;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: string, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options.details ?? {};
  }
}

/** One problem found in a config file, at a dot path. */
export interface ConfigIssue {
  path: string;
  message: string;
}

/** A config file that failed validation; lists every problem at once. */
export class ConfigError extends StrataError {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[], file?: string) {
    const where = file ? ` in ${file}` : '';
    const lines = issues.map((issue) => `  ${issue.path || '(root)'}: ${issue.message}`);
    super('config_invalid', `invalid config${where} (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n${lines.join('\n')}`, {
      details: { file, issues },
    });
    this.issues = issues;
  }
}

/** A git command failed. */
export class GitError extends StrataError {
  constructor(message: string, details: { args: readonly string[]; exitCode: number | null; stderr: string; cwd: string }) {
    super('git_failed', message, { details });
  }
}

/**
 * What went wrong at the ledger edge: `ledger_corrupt` (the file is damaged or
 * not a ledger), `ledger_disk_full`, `ledger_read_only` (a write to a ledger
 * opened read-only or on a read-only file system), `ledger_migration_needed`
 * (an older schema opened read-only), `ledger_check_failed` (replayed events
 * disagree with the state tables), `ledger_failed` (anything else).
 */
export type LedgerErrorCode = 'ledger_failed' | 'ledger_corrupt' | 'ledger_disk_full' | 'ledger_read_only' | 'ledger_migration_needed' | 'ledger_check_failed';

/** The ledger (SQLite) could not be opened, migrated, read or written. */
export class LedgerError extends StrataError {
  declare readonly code: LedgerErrorCode;
  constructor(message: string, options: { cause?: unknown; details?: Record<string, unknown>; code?: LedgerErrorCode } = {}) {
    super(options.code ?? 'ledger_failed', message, options);
  }
}

/** A study cannot start or continue in the current state (another orchestrator holds it, dirty repo, ...). */
export class StudyStateError extends StrataError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('study_state', message, { details });
  }
}

/**
 * The study branch points at a commit the ledger never put there, and not
 * behind its best (someone committed on it or force-moved it). Strata does
 * not overwrite it; the study pauses until it is put back.
 */
export class BranchMovedError extends StrataError {
  constructor(branch: string, tip: string, best: string) {
    super(
      'branch_moved',
      `branch ${branch} was moved outside Strata (it is at ${tip.slice(0, 12)}; the study's best is ${best.slice(0, 12)}), so Strata will not overwrite it. ` +
        `Keep what is there with \`git branch saved-${branch.replace(/^strata\//, '')} ${tip.slice(0, 12)}\`, then put the branch back with \`git branch -f ${branch} ${best}\` and run again to resume`,
      { details: { branch, tip, best } },
    );
  }
}

/** A proposer could not produce a candidate (malformed reply, nothing left to try, ...). */
export class ProposalError extends StrataError {
  constructor(message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super('proposal_failed', message, options);
  }
}

/** A budget (USD, trials, time, metric calls) would be exceeded. */
export class BudgetExhaustedError extends StrataError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('budget_exhausted', message, { details });
  }
}

/**
 * An evaluator never produced a usable score (every validation example of the
 * seed failed), so nothing can be compared; the message names the first
 * failure and what a valid result looks like. The study stops `failed`.
 */
export class EvaluatorError extends StrataError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('evaluator_failed', message, { details });
  }
}

/**
 * The user stopped the run (Ctrl-C, SIGTERM, an aborted signal) before it had
 * a result to return; the study is paused and resumes on the next run.
 */
export class StudyStoppedError extends StrataError {
  constructor(message = 'stopped by the user; run again to resume', details: Record<string, unknown> = {}) {
    super('study_stopped', message, { details });
  }
}

/**
 * A trial's log could not be written (a full disk, a failing one, a quota):
 * the run is stopped, since nothing it prints would be kept, and the study
 * pauses; the message says why and where, and what to free or fix.
 */
export class TrialLogError extends StrataError {
  constructor(message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super('trial_log_failed', message, options);
  }
}

/**
 * A command-line option holds a value the command does not take (e.g.
 * `--format xml`); the message names the values it takes.
 */
export class UsageError extends StrataError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('usage_invalid', message, { details });
  }
}

/**
 * A file the user asked for (a report, a chart) could not be written where
 * they pointed: the message names the path and the system's reason, and asks
 * for another place.
 */
export class OutputError extends StrataError {
  constructor(message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super('output_failed', message, options);
  }
}

/**
 * An oversight action that cannot be done as asked (veto of the baseline or
 * of a trial that was not kept, an unknown trial or note, pausing a study
 * that is not running); the message says what can be done instead.
 */
export class OversightError extends StrataError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('oversight_refused', message, { details });
  }
}

/** Turn anything thrown into a readable one-line message. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
