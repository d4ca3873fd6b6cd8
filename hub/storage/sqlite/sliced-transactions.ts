// Long work on the writer's thread, cut into short transactions: each one holds up the next batch of
// samples, so none may last long, and a first run over days of rows must not hold the next task
// back for an hour.
import type Database from 'better-sqlite3';

/**
 * Calls `step` (the work done, or null when none is left) in transactions of about `sliceMs`, with
 * `pause` between them, for at most `budgetMs`: the rest is left to the next run. Returns the sum
 * of the steps' work.
 */
export async function inSlicedTransactions(
  db: Database.Database,
  step: () => number | null,
  pause: () => Promise<void>,
  sliceMs: number,
  budgetMs: number,
): Promise<number> {
  const stopAt = performance.now() + budgetMs;
  let done = 0;
  for (let more = true; more && performance.now() < stopAt; await pause()) {
    const sliceEnd = performance.now() + sliceMs;
    // IMMEDIATE: a step reads before it writes, and SQLite fails such a transaction at once with
    // "database is locked" if another connection (the hub's main thread) has written meanwhile,
    // where BEGIN IMMEDIATE waits for the lock.
    done += db
      .transaction(() => {
        let work = 0;
        do {
          const n = step();
          if (n === null) {
            more = false;
            break;
          }
          work += n;
        } while (performance.now() < sliceEnd);
        return work;
      })
      .immediate();
  }
  return done;
}
