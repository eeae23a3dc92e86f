/**
 * A small seeded pseudo-random generator (sfc32) whose whole state is four
 * 32-bit integers, so a run can store it in the ledger and resume with the
 * exact same future.
 *
 * @example
 * const rng = Random.fromSeed(42);
 * rng.next();          // in [0, 1)
 * const saved = rng.state();
 * const again = Random.fromState(saved);
 */
export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  private constructor(state: readonly [number, number, number, number]) {
    [this.a, this.b, this.c, this.d] = state;
  }

  /** A generator seeded from an integer or a string (hashed). */
  static fromSeed(seed: number | string): Random {
    const h = typeof seed === 'string' ? hashString(seed) : seed >>> 0;
    const rng = new Random([0x9e3779b9, 0x243f6a88, 0xb7e15162, h]);
    for (let i = 0; i < 15; i++) rng.nextUint32();
    return rng;
  }

  static fromState(state: readonly number[]): Random {
    if (state.length !== 4 || state.some((v) => !Number.isInteger(v))) {
      throw new TypeError(`random state must be four integers, got ${JSON.stringify(state)}`);
    }
    return new Random([state[0]! >>> 0, state[1]! >>> 0, state[2]! >>> 0, state[3]! >>> 0]);
  }

  state(): [number, number, number, number] {
    return [this.a >>> 0, this.b >>> 0, this.c >>> 0, this.d >>> 0];
  }

  /** A new independent generator derived from this one's next output and a label. */
  fork(label: string | number): Random {
    return Random.fromSeed(hashString(`${this.nextUint32()}:${label}`));
  }

  nextUint32(): number {
    this.a >>>= 0;
    this.b >>>= 0;
    this.c >>>= 0;
    this.d >>>= 0;
    const t = (this.a + this.b) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.d = (this.d + 1) | 0;
    const out = (t + this.d) | 0;
    this.c = (this.c + out) | 0;
    return out >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform in [low, high). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.next();
  }

  /** Integer uniform in [low, high] inclusive. */
  int(low: number, high: number): number {
    return low + Math.floor(this.next() * (high - low + 1));
  }

  /** Standard normal (Box-Muller). */
  normal(mean = 0, std = 1): number {
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    return mean + std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('cannot pick from an empty list');
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** Fisher-Yates shuffle into a new array. */
  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }
}

/** 32-bit FNV-1a hash of a string. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
