import type { ExecutionRequest, ExecutionResult, Executor } from '../core/executor.ts';
import { runProcess } from './run-process.ts';

/**
 * Runs trials as local child processes, each in its own process group,
 * killed as a group at budget + grace.
 */
export class LocalExecutor implements Executor {
  readonly kind = 'local';

  run(request: ExecutionRequest): Promise<ExecutionResult> {
    return runProcess({
      command: request.command,
      cwd: request.cwd,
      env: request.env,
      budgetMs: request.budgetMs,
      graceMs: request.graceMs,
      logPath: request.logPath,
      ...(request.signal ? { signal: request.signal } : {}),
      ...(request.onOutput ? { onOutput: request.onOutput } : {}),
    });
  }
}
