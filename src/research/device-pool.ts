import type { Slot } from './slot-executor.ts';

/** One hold on a slot's device; releasing it twice is harmless. */
export interface DeviceLease {
  readonly slot: Slot;
  released: boolean;
}

/**
 * The study's devices (slots) and who holds each. The scheduler takes a free
 * slot to start a trial; a run inside a trial's decision (a rerun the
 * acceptance rule asked for, a re-check of the incumbent) waits here for a
 * device and is served before any new trial, so no device ever runs two
 * processes at once.
 *
 * @example
 * const lease = await pool.acquire(signal); try { await run(lease.slot); } finally { pool.release(lease); }
 */
export class DevicePool {
  private readonly slots: readonly Slot[];
  private readonly held = new Set<number>();
  private readonly waiters: ((lease: DeviceLease | undefined) => void)[] = [];
  private readonly onFree: () => void;

  /** `onFree` is told whenever a device becomes free for the scheduler. */
  constructor(slots: readonly Slot[], onFree: () => void) {
    this.slots = slots;
    this.onFree = onFree;
  }

  /** Slots no one holds, in index order. */
  free(): Slot[] {
    return this.slots.filter((slot) => !this.held.has(slot.index));
  }

  get busy(): number {
    return this.held.size;
  }

  isHeld(slot: Slot): boolean {
    return this.held.has(slot.index);
  }

  /** Take a free slot now (the scheduler starting a trial on it). */
  take(slot: Slot): DeviceLease {
    if (this.held.has(slot.index)) throw new Error(`slot ${slot.name} is already held`);
    this.held.add(slot.index);
    return { slot, released: false };
  }

  /** Wait for a device, ahead of new trials; undefined when the signal aborts first. */
  acquire(signal: AbortSignal): Promise<DeviceLease | undefined> {
    const free = this.free()[0];
    if (free) return Promise.resolve(this.take(free));
    if (signal.aborted) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const waiter = (lease: DeviceLease | undefined) => {
        signal.removeEventListener('abort', onAbort);
        resolve(lease);
      };
      const onAbort = () => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        resolve(undefined);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** End a hold: the device goes to the longest waiting run if any, else back to the scheduler. */
  release(lease: DeviceLease): void {
    if (lease.released) return;
    lease.released = true;
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter({ slot: lease.slot, released: false });
      return;
    }
    this.held.delete(lease.slot.index);
    this.onFree();
  }
}
