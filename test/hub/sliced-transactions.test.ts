// Long work cut into short transactions (hub/storage/sqlite/sliced-transactions.ts) on a real SQLite file, with a
// second connection writing to it, as the hub's main thread does while its writer thread compacts:
// a step reads before it writes, and a transaction that let another write in between failed with
// "database is locked" (a purge run under load failed so, and compacted nothing).
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { inSlicedTransactions } from '../../hub/storage/sqlite/sliced-transactions.ts';
import { openDatabase } from '../../shared/sqlite-open.ts';
import { cleanup, runCleanups, tempDir } from '../helpers/parts.ts';

afterEach(runCleanups);

function openPair() {
  const path = join(tempDir(), 'sliced.db');
  const worker = openDatabase(path);
  worker.exec('CREATE TABLE queue (id INTEGER PRIMARY KEY, moved INTEGER NOT NULL DEFAULT 0); CREATE TABLE other (id INTEGER PRIMARY KEY)');
  const insert = worker.prepare('INSERT INTO queue (id) VALUES (?)');
  for (let id = 1; id <= 50; id++) insert.run(id);
  const main = openDatabase(path);
  // The other connection does not wait: a write it tries inside a slice shows at once.
  main.pragma('busy_timeout = 0');
  cleanup(() => {
    worker.close();
    main.close();
  });
  return { worker, main };
}

describe('inSlicedTransactions', () => {
  it("moves everything while another connection writes between a step's read and its write", async () => {
    const { worker, main } = openPair();
    const next = worker.prepare<[], { id: number }>('SELECT id FROM queue WHERE moved = 0 ORDER BY id LIMIT 1');
    const move = worker.prepare('UPDATE queue SET moved = 1 WHERE id = ?');
    const otherWrite = main.prepare('INSERT INTO other DEFAULT VALUES');
    let otherWrites = 0;
    let otherRefused = 0;
    let pauses = 0;
    const step = () => {
      const row = next.get();
      if (!row) return null;
      try {
        otherWrite.run();
        otherWrites++;
      } catch (err) {
        expect((err as { code?: string }).code).toBe('SQLITE_BUSY');
        otherRefused++;
      }
      move.run(row.id);
      return 1;
    };
    const pause = async () => {
      pauses++;
      otherWrite.run(); // between slices the other connection writes freely
      otherWrites++;
    };
    const moved = await inSlicedTransactions(worker, step, pause, 1, 60_000);
    expect(moved).toBe(50);
    expect((worker.prepare('SELECT count(*) AS n FROM queue WHERE moved = 1').get() as { n: number }).n).toBe(50);
    // Inside a slice the other connection waited for the lock; between slices it wrote.
    expect(otherRefused).toBe(50);
    expect(otherWrites).toBe(pauses);
    expect(pauses).toBeGreaterThan(0);
  });
});
