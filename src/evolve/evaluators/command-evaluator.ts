import { spawn } from 'node:child_process';
import { errorMessage } from '../../core/errors.ts';
import { jsonHash } from '../content-hash.ts';
import type { Evaluate, EvaluationResult } from '../types.ts';

/** Characters of stdout kept: the end, where the result line is. */
const OUTPUT_LIMIT = 1_000_000;
/** What a valid result looks like, quoted in every message about a malformed one. */
export const COMMAND_RESULT_SHAPE = '{"score": <a finite number>, "feedback": "...", "objectives": {...}} as the last JSON line of stdout';

/**
 * Score with an external program: it gets `{"candidate": {...}, "example": {...}}`
 * on stdin and prints `{"score": n, "feedback": "...", "objectives": {...}, "trace": ...}`
 * (the last JSON line of stdout counts). It runs in its own process group,
 * killed whole at the timeout. A command that fails, times out or prints no
 * valid result rejects with a message saying what it printed and what it must
 * print; the engine scores that example as a failure with the message as feedback.
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
      let settled = false;
      // Every exit from here goes through settle, inside try: a throw in an event handler would be uncaught.
      const settle = (outcome: () => EvaluationResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        context.signal.removeEventListener('abort', onAbort);
        try {
          resolve(outcome());
        } catch (error) {
          reject(error);
        }
      };
      const killGroup = (reason: string) => {
        why ??= reason;
        if (child.pid === undefined || child.exitCode !== null) return;
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch (error) {
          // ESRCH: the group is already gone, which is what we wanted; anything else ends this evaluation with the reason.
          if ((error as NodeJS.ErrnoException).code !== 'ESRCH') {
            settle(() => {
              throw new Error(`the evaluator command ${reason}, and killing its process group failed: ${errorMessage(error)}`);
            });
          }
        }
      };
      const timer = setTimeout(() => killGroup(`timed out after ${options.timeoutMs}ms`), options.timeoutMs);
      const onAbort = () => killGroup('aborted');
      context.signal.addEventListener('abort', onAbort, { once: true });
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.length > 2 * OUTPUT_LIMIT) stdout = stdout.slice(-OUTPUT_LIMIT);
      });
      child.stderr.on('data', (chunk: Buffer) => {
        stderr = (stderr + chunk.toString()).slice(-4000);
      });
      child.on('error', (error) =>
        settle(() => {
          throw new Error(`the evaluator command could not run: ${error.message}`);
        }),
      );
      child.on('close', (code, signal) => {
        settle(() => {
          if (why) throw new Error(`the evaluator command ${why}${stderr ? `; stderr: ${stderr.slice(-500)}` : ''}`);
          if (code !== 0) throw new Error(`the evaluator command exited with ${code ?? signal}${stderr ? `: ${stderr.slice(-500)}` : ''}`);
          return parseResult(stdout);
        });
      });
      child.stdin.on('error', () => {
        // EPIPE: the command exited without reading its input; its exit status tells the story.
      });
      child.stdin.end(JSON.stringify({ candidate, example }));
    });
  return { evaluate, version: jsonHash({ command: options.command }) };
}

/** The last JSON line of stdout as a result; throws saying what was printed and what must be. */
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
    const printed = `it printed ${trimmed.slice(0, 200)}`;
    if (typeof value.score !== 'number' || !Number.isFinite(value.score)) {
      throw new Error(`the evaluator command's result line has no usable score: "score" must be a finite number (${printed}); it must print ${COMMAND_RESULT_SHAPE}`);
    }
    const objectives = value.objectives;
    if (objectives !== undefined) {
      if (objectives === null || typeof objectives !== 'object' || Array.isArray(objectives)) {
        throw new Error(`the evaluator command's "objectives" must be an object of finite numbers (${printed})`);
      }
      for (const [name, number] of Object.entries(objectives)) {
        if (typeof number !== 'number' || !Number.isFinite(number)) throw new Error(`the evaluator command's "objectives".${name} must be a finite number (${printed})`);
      }
    }
    return {
      score: value.score,
      ...(typeof value.feedback === 'string' ? { feedback: value.feedback } : {}),
      ...(objectives !== undefined ? { objectives: objectives as Record<string, number> } : {}),
      ...(value.trace !== undefined ? { trace: value.trace } : {}),
    };
  }
  throw new Error(`the evaluator command printed no JSON result line (it printed ${JSON.stringify(stdout.slice(-300))}); it must print ${COMMAND_RESULT_SHAPE}`);
}
