import { BudgetExhaustedError } from '../core/errors.ts';

/** Money set aside for one call before it is made. */
export interface UsdReservation {
  readonly amount: number;
  settled: boolean;
}

/**
 * A study-wide USD cap shared by every model role. Each call reserves its
 * worst-case cost before it starts and settles with the real cost after, so
 * concurrent calls together never cross the cap (the only overshoot possible
 * is a call whose real cost exceeds its estimate).
 *
 * @example
 * const budget = new UsdBudget(10, spentSoFar);
 * const hold = budget.reserve(0.02, 'reflection');   // throws BudgetExhaustedError when it would cross $10
 * budget.settle(hold, 0.013);
 */
export class UsdBudget {
  readonly capUsd: number | null;
  private spentUsd: number;
  private heldUsd = 0;

  /** `capUsd` null or 0 = no cap. `spentUsd` = what the ledger says was already spent (resume). */
  constructor(capUsd: number | null, spentUsd = 0) {
    this.capUsd = capUsd !== null && capUsd > 0 ? capUsd : null;
    this.spentUsd = spentUsd;
  }

  get spent(): number {
    return this.spentUsd;
  }

  get reserved(): number {
    return this.heldUsd;
  }

  /** What is left after spending and reservations; Infinity without a cap. */
  get remaining(): number {
    return this.capUsd === null ? Number.POSITIVE_INFINITY : Math.max(0, this.capUsd - this.spentUsd - this.heldUsd);
  }

  canAfford(amount: number): boolean {
    return this.capUsd === null || this.spentUsd + this.heldUsd + amount <= this.capUsd + 1e-12;
  }

  /** Set `amount` aside, or throw BudgetExhaustedError naming what it was for. */
  reserve(amount: number, what: string): UsdReservation {
    if (!this.canAfford(amount)) {
      throw new BudgetExhaustedError(
        `USD budget reached: the next ${what} call could cost up to $${amount.toFixed(4)}, and $${this.spentUsd.toFixed(4)} spent + $${this.heldUsd.toFixed(4)} in flight of the $${this.capUsd} cap leaves too little; raise the cap (llm.max_usd or evolve.budget.usd) to continue`,
        { capUsd: this.capUsd, spentUsd: this.spentUsd, reservedUsd: this.heldUsd, requestedUsd: amount, what },
      );
    }
    this.heldUsd += amount;
    return { amount, settled: false };
  }

  /** Replace a reservation with what the call really cost. */
  settle(reservation: UsdReservation, actualUsd: number): void {
    if (reservation.settled) return;
    reservation.settled = true;
    this.heldUsd = Math.max(0, this.heldUsd - reservation.amount);
    this.spentUsd += actualUsd;
  }
}
