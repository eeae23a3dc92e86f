/**
 * Named kill points for the chaos suite (test/chaos): with
 * STRATA_CHAOS_KILL=<phase>:<n>[:group], the orchestrator kills itself with
 * SIGKILL — alone, or with its whole process group — the n-th time it
 * reaches `phase`. Nothing happens without the variable; it is read once.
 * This is how the suite lands a kill exactly between two writes (the ledger
 * and the branch, a measurement and its decision) that random timing would
 * rarely hit. With `:stall` instead of `:group` it does not kill: it waits
 * there on a promise nothing settles, the bug the process edge's watchdog
 * must name (src/cli/run.ts) instead of exiting silently.
 */
const spec = parse(process.env.STRATA_CHAOS_KILL);
let reached = 0;

function parse(value: string | undefined): { phase: string; n: number; group: boolean; stall: boolean } | undefined {
  if (!value) return undefined;
  const [phase, n, mode] = value.split(':');
  if (!phase) return undefined;
  return { phase, n: Math.max(1, Number(n ?? 1) || 1), group: mode === 'group', stall: mode === 'stall' };
}

/**
 * Mark a phase boundary. Async so the kill lands after what came before is
 * on disk (SQLite commits synchronously; a microtask is enough).
 *
 * @example
 * trials.measure(trial, facts);
 * await chaosPoint('measured');
 */
export async function chaosPoint(phase: string): Promise<void> {
  if (!spec || spec.phase !== phase) return;
  reached += 1;
  if (reached !== spec.n) return;
  // A stall keeps nothing alive: once everything else is done, the event loop runs dry with the command unfinished.
  if (spec.stall) return new Promise(() => {});
  process.kill(spec.group ? -process.pid : process.pid, 'SIGKILL');
  // SIGKILL is delivered before this resolves; never continue past a kill point that fired.
  await new Promise(() => {});
}
