import { main } from './main.ts';

/**
 * Process edge: wire Ctrl-C to an AbortSignal (first press stops gracefully,
 * the second exits at once), run the command, set the exit code.
 */
export async function run(argv: readonly string[]): Promise<void> {
  const controller = new AbortController();
  let presses = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    presses++;
    if (presses === 1) {
      process.stderr.write(`\nstrata: ${signal}: stopping — killing the running trial and saving the ledger (press Ctrl-C again to exit at once)\n`);
      controller.abort();
    } else {
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    process.exitCode = await main(argv, { cwd: process.cwd(), signal: controller.signal });
  } catch (error) {
    process.stderr.write(`strata: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
