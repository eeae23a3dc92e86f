import { StrataError } from '../core/errors.ts';

/**
 * A results file or branch that cannot be imported as it is; the message
 * lists every problem found (with line numbers) and how to fix it.
 */
export class ImportError extends StrataError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('import_failed', message, { details });
  }
}
