// The pause between the slices of the writer thread's background work (rollups, compaction, purges).
// While ingest keeps the thread busy, a slice of t ms is followed by a wait of RATIO × t: the work
// gets a seventh of the thread and no longer takes the cores the broker and the hub's loop need
// (bench/hub-ingest.ts --compaction: ingest while a purge ran 56–60 % of the raw broker rate with a
// ratio of 0 or 2, 69 % with 6, against 76 % with no purge). A hub that writes little, as a fleet
// at its usual rate does, is not held back: its work goes on at once.

/** Background work waits this many times as long as its last slice took while ingest is heavy. */
export const BACKGROUND_WAIT_RATIO = 6;
/** Ingest is heavy when its writes took this share of the thread's last second or more. */
export const HEAVY_INGEST_SHARE = 0.2;
/** The longest wait after a slice: a slice that took long (a slow disk) must not stop the work for long. */
export const MAX_BACKGROUND_WAIT_MS = 250;

const SECOND_MS = 1000;

export interface PacerClock {
  now(): number;
  /** Resolves after `ms`; 0: after the pending events (setImmediate). */
  wait(ms: number): Promise<void>;
}

const realClock: PacerClock = {
  now: () => performance.now(),
  wait: (ms) => new Promise((resolve) => (ms > 0 ? setTimeout(resolve, ms) : setImmediate(resolve))),
};

export class BackgroundPacer {
  private sliceStart: number;
  /** Write time in the current second (from secondStart) and in the one before it. */
  private secondStart: number;
  private writeMs = 0;
  private lastSecondWriteMs = 0;

  constructor(private readonly clock: PacerClock = realClock) {
    this.sliceStart = clock.now();
    this.secondStart = this.sliceStart;
  }

  /** Ingest wrote for `ms`. */
  wrote(ms: number): void {
    this.roll(this.clock.now());
    this.writeMs += ms;
  }

  /** A background job starts its first slice now. */
  begin(): void {
    this.sliceStart = this.clock.now();
  }

  /** Between two slices: waits as the rule above says, then starts timing the next slice. */
  readonly pause = async (): Promise<void> => {
    const now = this.clock.now();
    this.roll(now);
    // The last whole second, or this one once it alone is heavy.
    const heavy = Math.max(this.lastSecondWriteMs, this.writeMs) >= HEAVY_INGEST_SHARE * SECOND_MS;
    await this.clock.wait(heavy ? Math.min((now - this.sliceStart) * BACKGROUND_WAIT_RATIO, MAX_BACKGROUND_WAIT_MS) : 0);
    this.sliceStart = this.clock.now();
  };

  /** Moves the seconds on to the one that holds `now`. */
  private roll(now: number): void {
    const passed = Math.floor((now - this.secondStart) / SECOND_MS);
    if (passed <= 0) return;
    this.lastSecondWriteMs = passed === 1 ? this.writeMs : 0;
    this.writeMs = 0;
    this.secondStart += passed * SECOND_MS;
  }
}
