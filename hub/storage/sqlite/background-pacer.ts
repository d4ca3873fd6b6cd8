// The pause between the slices of the writer thread's background work (rollups, compaction, purges):
// while ingest's writes keep coming, a slice of t ms is followed by a wait of RATIO × t, so that
// work gets a bounded share of the thread and of the machine's cores (on a two-core Pi the broker,
// the hub's loop and this thread share them) and ingest keeps its rate; on a hub with no writes
// it goes on at once. Backlogs still clear: a third of a thread compacts a thousand nodes at 1 Hz.

/** Background work waits this many times as long as its last slice took while writes come in. */
export const BACKGROUND_WAIT_RATIO = 2;
/** Writes this recent count as ingest going on. */
export const INGEST_RECENT_MS = 1000;
/** The longest wait after a slice: a slice that took long (a slow disk) must not stop the work for long. */
export const MAX_BACKGROUND_WAIT_MS = 250;

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
  private lastWrite = Number.NEGATIVE_INFINITY;

  constructor(private readonly clock: PacerClock = realClock) {
    this.sliceStart = clock.now();
  }

  /** Ingest wrote: background work yields more while this goes on. */
  wrote(): void {
    this.lastWrite = this.clock.now();
  }

  /** A background job starts its first slice now. */
  begin(): void {
    this.sliceStart = this.clock.now();
  }

  /** Between two slices: waits as the rule above says, then starts timing the next slice. */
  readonly pause = async (): Promise<void> => {
    const now = this.clock.now();
    const ingesting = now - this.lastWrite < INGEST_RECENT_MS;
    await this.clock.wait(ingesting ? Math.min((now - this.sliceStart) * BACKGROUND_WAIT_RATIO, MAX_BACKGROUND_WAIT_MS) : 0);
    this.sliceStart = this.clock.now();
  };
}
