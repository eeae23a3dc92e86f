import { spawn } from 'node:child_process';
import { jsonHash } from '../content-hash.ts';
import type { Evaluate, EvaluationResult } from '../types.ts';

const OUTPUT_LIMIT = 1_000_000;

/**
 * Score with an external program: it gets `{"candidate": {...}, "example": {...}}`
 * on stdin and prints `{"score": n, "feedback": "...", "objectives": {...}, "trace": ...}`
 * (the last JSON line of stdout counts). It runs in its own process group,
 * killed whole at the timeout.
 *
 * @example
 * const { evaluate } = createCommandEvaluator({ command: 'python score.py', cwd: projectDir, timeoutMs: 60_000 });
 */
export function createCommandEvaluator(options: { command: string; cwd: string; timeoutMs: number }): { evaluate: Evaluate<unknown>; version: string } {
  const evaluate: Evaluate<unknown> = (candidate, example, context) =>
    new Promise<EvaluationResult>((resolve, reject) => {
      const child = spawn('/bin/sh', ['-c', options.command], { cwd: options.cwd, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      let why: string | undefined;
      const killGroup = (reason: string) => {
        why ??= reason;
        if (child.pid !== undefined && child.exitCode === null) {
          try {
            process.kill(-child.pid, 'SIGKILL');
          } catch (error) {
            // ESRCH: the group is already gone, which is what we wanted.
            if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
          }
        }
      };
      const timer = setTimeout(() => killGroup(`timed out after ${options.timeoutMs}ms`), options.timeoutMs);
      const onAbort = () => killGroup('aborted');
      context.signal.addEventListener('abort', onAbort, { once: true });
      child.stdout.on('data', (chunk: Buffer) => {
        if (stdout.length < OUTPUT_LIMIT) stdout += chunk.toString();
      });
      child.stderr.on('data', (chunk: Buffer) => {
        stderr = (stderr + chunk.toString()).slice(-4000);
      });
      child.on('error', (error) => finish(() => reject(error)));
      child.on('close', (code, signal) => {
        finish(() => {
          if (why) return reject(new Error(`the evaluator command ${why}${stderr ? `; stderr: ${stderr.slice(-500)}` : ''}`));
          if (code !== 0) return reject(new Error(`the evaluator command exited with ${code ?? signal}${stderr ? `: ${stderr.slice(-500)}` : ''}`));
          resolve(parseResult(stdout));
        });
      });
      child.stdin.on('error', () => {
        // EPIPE: the command exited without reading its input; its exit status tells the story.
      });
      child.stdin.end(JSON.stringify({ candidate, example }));
      function finish(then: () => void) {
        clearTimeout(timer);
        context.signal.removeEventListener('abort', onAbort);
        then();
      }
    });
  return { evaluate, version: jsonHash({ command: options.command }) };
}

function parseResult(stdout: string): EvaluationResult {
  const lines = stdout.trim().split('\n').reverse();
  for (const line of lines) {
    const trimmed = line.trim();
    if (!trimmed.startsWith('{')) continue;
    let value: Record<string, unknown>;
    try {
      value = JSON.parse(trimmed) as Record<string, unknown>;
    } catch {
      continue; // a log line that happens to start with "{": keep looking upward
    }
    if (typeof value.score !== 'number') throw new Error(`the evaluator command printed JSON without a numeric "score": ${trimmed.slice(0, 200)}`);
    return {
      score: value.score,
      ...(typeof value.feedback === 'string' ? { feedback: value.feedback } : {}),
      ...(value.objectives && typeof value.objectives === 'object' ? { objectives: value.objectives as Record<string, number> } : {}),
      ...(value.trace !== undefined ? { trace: value.trace } : {}),
    };
  }
  throw new Error(`the evaluator command printed no JSON result line; stdout: ${JSON.stringify(stdout.slice(-300))}`);
}
