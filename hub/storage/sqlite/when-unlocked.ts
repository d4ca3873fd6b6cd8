// A statement on a connection beside the writer thread's, tried again later while the thread holds the
// write lock, instead of waiting in SQLite's busy handler: that wait is synchronous, and during a purge
// it held the hub's event loop (and so ingest and every request) for the whole busy timeout, 5 s.

/** How long one try may wait in SQLite for the lock: short enough not to be felt as a stall. */
export const TRY_BUSY_TIMEOUT_MS = 10;

/** SQLite's busy code, on the error or on the one it wraps (shared/sqlite-open.ts' naming() names the file around it). */
function isBusy(err: unknown): boolean {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 3; e = e.cause as typeof e, depth++)
    if (typeof e.code === 'string' && e.code.startsWith('SQLITE_BUSY')) return true;
  return false;
}

/** Runs `statement` now, or again after a growing pause (1 ms to 50 ms) while the database is busy, for up to `giveUpMs`. */
export async function whenUnlocked<T>(statement: () => T, giveUpMs = 60_000): Promise<T> {
  const start = performance.now();
  for (let pause = 1; ; pause = Math.min(pause * 2, 50)) {
    try {
      return statement();
    } catch (err) {
      if (!isBusy(err) || performance.now() - start > giveUpMs) throw err;
    }
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}
