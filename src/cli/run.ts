import { describeProgress } from '../study/progress-watch.ts';
import { main } from './main.ts';

/** Commands that run a study: when their output goes away they stop it (paused, resumable) and say so. */
const STUDY_COMMANDS = new Set(['research', 'evolve', 'pipeline', 'serve']);
/** The exit code of a run stopped by a signal, as a shell reports Ctrl-C. */
const STOPPED_BY_SIGNAL = 130;
/** The exit code when the process stopped making progress (an internal error, as sysexits' EX_SOFTWARE). */
const STUCK = 70;

/**
 * Process edge: wire Ctrl-C to an AbortSignal (first press stops gracefully,
 * the second exits at once), run the command, set the exit code (130 after a
 * stop by signal). A stdout or stderr that can no longer be written (`strata
 * research | head`, a closed terminal, a full disk under a redirect) stops
 * the command the same way a first Ctrl-C does, without a stack trace: the
 * study pauses and the next run resumes it.
 */
export async function run(argv: readonly string[]): Promise<void> {
  const controller = new AbortController();
  let presses = 0;
  let stoppedBySignal = false;
  let outputLost = false;
  const onSignal = (signal: NodeJS.Signals) => {
    presses++;
    if (presses === 1) {
      stoppedBySignal = true;
      say(`\nstrata: ${signal}: stopping — killing the running trial and saving the ledger (press Ctrl-C again to exit at once)\n`);
      controller.abort();
    } else {
      process.exit(STOPPED_BY_SIGNAL);
    }
  };
  // Registered for good (never removed): a write still buffered when the command returns can fail after it.
  const onOutputError = (stream: 'stdout' | 'stderr') => (error: NodeJS.ErrnoException) => {
    if (outputLost && stream === 'stdout') return;
    if (stream === 'stdout') outputLost = true;
    if (controller.signal.aborted) return;
    // The one note that the study stopped goes to stderr (if it is the one still open); a quick command just ends.
    if (stream === 'stdout' && runsStudy(argv)) say(`strata: stdout was closed (${error.code ?? error.message}); stopping — the study is paused, run again to resume\n`);
    controller.abort();
  };
  process.stdout.on('error', onOutputError('stdout'));
  process.stderr.on('error', onOutputError('stderr'));
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // The event loop ran dry while the command is unfinished: a promise nothing will settle. Say where, never exit silently.
  let settled = false;
  const onStuck = () => {
    if (settled) return;
    settled = true;
    say(`strata: internal error: nothing left to wait on while ${describeProgress()}; the ledger is intact and the study resumes when you run the command again — please report this line\n`);
    process.exitCode = STUCK;
  };
  process.on('beforeExit', onStuck);
  try {
    const code = await main(argv, { cwd: process.cwd(), signal: controller.signal });
    // A reader that left (| head) is not a Ctrl-C: a study it stopped says 130 only when a signal did it.
    if (stoppedBySignal) process.exitCode = code === 0 ? STOPPED_BY_SIGNAL : code;
    else process.exitCode = outputLost && code === STOPPED_BY_SIGNAL ? 0 : code;
  } catch (error) {
    if (isClosedOutput(error)) {
      // A write that failed synchronously (writeFileSync to /dev/stdout when it is a closed pipe): the reader left; nothing to report.
      process.exitCode = 0;
    } else {
      say(`strata: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    }
  } finally {
    settled = true;
    process.off('beforeExit', onStuck);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function runsStudy(argv: readonly string[]): boolean {
  return STUDY_COMMANDS.has(argv[0] ?? '') && !argv.includes('--help') && !argv.includes('-h');
}

/** Write to stderr unless it is gone (its error listener notes that). */
function say(text: string): void {
  if (!process.stderr.destroyed) process.stderr.write(text);
}

/** A write to a pipe nobody reads any more (only writes: an EPIPE from anything else is a real error). */
function isClosedOutput(error: unknown): boolean {
  const { code, syscall } = (error ?? {}) as NodeJS.ErrnoException;
  return (code === 'EPIPE' && syscall === 'write') || code === 'ERR_STREAM_DESTROYED';
}
