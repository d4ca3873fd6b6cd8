// Slows password guessing: after `maxFailures` failed logins in `windowMs` from one address, or
// against one user name, further attempts are refused (429) until the window ends, even with the
// right password. Memory is bounded: at most `maxKeys` counters, the oldest dropped first.

export interface LoginLimiterOptions {
  /** Failures allowed per key and window before blocking; default 5. */
  maxFailures?: number;
  /** Window length, ms; default 60 000. */
  windowMs?: number;
  /** Most counters kept at once; default 10 000 (≈1 MB). */
  maxKeys?: number;
  now?: () => number;
}

interface Counter {
  failures: number;
  /** When this window started, epoch ms. */
  startMs: number;
}

export class LoginLimiter {
  private readonly counters = new Map<string, Counter>();
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly maxKeys: number;
  private readonly now: () => number;

  constructor({ maxFailures = 5, windowMs = 60_000, maxKeys = 10_000, now = Date.now }: LoginLimiterOptions = {}) {
    for (const [name, value] of [
      ['maxFailures', maxFailures],
      ['windowMs', windowMs],
      ['maxKeys', maxKeys],
    ] as const) {
      if (!Number.isInteger(value) || value < 1) throw new TypeError(`LoginLimiter: ${name} must be a positive integer, got ${value}`);
    }
    this.maxFailures = maxFailures;
    this.windowMs = windowMs;
    this.maxKeys = maxKeys;
    this.now = now;
  }

  /** Seconds to wait before trying again, or 0 when none of `keys` is blocked. */
  retryAfterS(keys: string[]): number {
    const now = this.now();
    let waitMs = 0;
    for (const key of keys) {
      const counter = this.live(key, now);
      if (counter && counter.failures >= this.maxFailures) waitMs = Math.max(waitMs, counter.startMs + this.windowMs - now);
    }
    return Math.ceil(waitMs / 1000);
  }

  recordFailure(keys: string[]): void {
    const now = this.now();
    for (const key of keys) {
      const counter = this.live(key, now);
      if (counter) counter.failures++;
      else {
        if (this.counters.size >= this.maxKeys) this.evict(now);
        this.counters.set(key, { failures: 1, startMs: now });
      }
    }
  }

  /** A successful login forgets the failures against that user name (not those of the address). */
  reset(key: string): void {
    this.counters.delete(key);
  }

  get size(): number {
    return this.counters.size;
  }

  private live(key: string, now: number): Counter | null {
    const counter = this.counters.get(key);
    if (!counter) return null;
    if (now - counter.startMs >= this.windowMs) {
      this.counters.delete(key);
      return null;
    }
    return counter;
  }

  /** Drops expired counters, then (if still full) the oldest: Map keeps insertion order. */
  private evict(now: number): void {
    for (const [key, counter] of this.counters) if (now - counter.startMs >= this.windowMs) this.counters.delete(key);
    while (this.counters.size >= this.maxKeys) this.counters.delete(this.counters.keys().next().value!);
  }
}
