/**
 * What the long-running loop is waiting for, so that a process whose event
 * loop runs dry while a command is still unfinished (a promise nothing will
 * ever settle) can say where it stuck instead of exiting silently. The
 * scheduler keeps this current; the CLI's process edge reads it.
 */
let describe: (() => string) | undefined;

/**
 * Register (or clear, with undefined) the function that names the current state.
 *
 * @example
 * watchProgress(() => `scheduler: ${inFlight} trials in flight`);
 */
export function watchProgress(describer: (() => string) | undefined): void {
  describe = describer;
}

/** The current state in words, or a generic line when nothing registered one. */
export function describeProgress(): string {
  try {
    return describe?.() ?? 'no loop was running';
  } catch (error) {
    return `the state could not be read (${error instanceof Error ? error.message : String(error)})`;
  }
}
