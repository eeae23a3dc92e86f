import { StrataError } from '../core/errors.ts';

/** A model cannot be used as configured: unknown provider, missing API key, no price for a capped study. */
export class LlmConfigError extends StrataError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('llm_config', message, { details });
  }
}

/** A model call failed in a way retrying will not fix (bad request, refused key, unknown model, malformed reply). */
export class LlmCallError extends StrataError {
  readonly status: number | undefined;
  constructor(message: string, options: { cause?: unknown; status?: number; model: string; role: string }) {
    super('llm_call_failed', message, { cause: options.cause, details: { model: options.model, role: options.role, status: options.status } });
    this.status = options.status;
  }
}

/**
 * A model kept failing with retryable errors (429, 5xx, timeouts) after every
 * retry. Loops pause the study on this rather than burning trials.
 */
export class LlmUnavailableError extends StrataError {
  constructor(message: string, options: { cause?: unknown; model: string; role: string; attempts: number }) {
    super('llm_unavailable', message, { cause: options.cause, details: { model: options.model, role: options.role, attempts: options.attempts } });
  }
}
