import { StrataError } from '../core/errors.ts';

/**
 * The sandbox cannot give what the config asks for on this machine (no
 * bubblewrap, no user namespaces, a setup that failed); the message names
 * what is missing and how to get it.
 *
 * @example
 * throw new SandboxUnavailableError('research.network: off needs a network namespace, …; install bubblewrap (apt-get install bubblewrap)');
 */
export class SandboxUnavailableError extends StrataError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('sandbox_unavailable', message, { details });
  }
}
