/**
 * Lets one async section run at a time, in arrival order. Trials finish on
 * several slots at once; each reads the incumbent, decides, commits onto the
 * branch tip and moves the ref, and two such sections must never interleave
 * (the second would judge against a stale best and fail the ref's
 * compare-and-swap).
 *
 * @example
 * const release = await lock.acquire();
 * try { const best = readBest(); await keep(best); } finally { release(); }
 */
export class DecisionLock {
  private tail: Promise<void> = Promise.resolve();

  /** Wait for the sections before this one; the returned function ends this one (call it exactly once). */
  async acquire(): Promise<() => void> {
    let release!: () => void;
    const done = new Promise<void>((resolve) => {
      release = resolve;
    });
    const before = this.tail;
    this.tail = before.then(() => done);
    await before;
    return release;
  }
}
