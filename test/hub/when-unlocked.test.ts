// whenUnlocked on a real SQLite file with two connections: a write held up by the other connection's
// write lock waits without holding the event loop, and lands once the lock is free.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../shared/sqlite-open.ts';
import { TRY_BUSY_TIMEOUT_MS, whenUnlocked } from '../../hub/storage/sqlite/when-unlocked.ts';
import { runCleanups, tempDir } from '../helpers/parts.ts';

afterEach(runCleanups);

function twoConnections() {
  const path = join(tempDir(), 'two.db');
  const holder = openDatabase(path);
  holder.exec('CREATE TABLE t (x INTEGER)');
  const waiter = openDatabase(path);
  waiter.pragma(`busy_timeout = ${TRY_BUSY_TIMEOUT_MS}`);
  return { holder, waiter, close: () => (waiter.close(), holder.close()) };
}

describe('whenUnlocked', () => {
  it('tries a write again while another connection holds the lock, and the event loop runs meanwhile', async () => {
    const { holder, waiter, close } = twoConnections();
    try {
      holder.exec('BEGIN IMMEDIATE');
      holder.exec('INSERT INTO t VALUES (1)');
      const order: string[] = [];
      // The lock is given back after several of the waiter's tries, from a timer: only a free event loop runs it.
      setTimeout(() => {
        order.push('lock released');
        holder.exec('COMMIT');
      }, 10 * TRY_BUSY_TIMEOUT_MS);
      const write = whenUnlocked(() => waiter.prepare('INSERT INTO t VALUES (2)').run()).then(() => order.push('written'));
      await write;
      expect(order).toEqual(['lock released', 'written']);
      expect(waiter.prepare('SELECT x FROM t ORDER BY x').pluck().all()).toEqual([1, 2]);
    } finally {
      close();
    }
  });

  it('gives up after its time with SQLite busy error, and throws any other error at once', async () => {
    const { holder, waiter, close } = twoConnections();
    try {
      holder.exec('BEGIN IMMEDIATE');
      await expect(whenUnlocked(() => waiter.prepare('INSERT INTO t VALUES (2)').run(), 50)).rejects.toMatchObject({ code: 'SQLITE_BUSY' });
      holder.exec('COMMIT');
      let tries = 0;
      await expect(
        whenUnlocked(() => {
          tries++;
          return waiter.prepare('INSERT INTO missing VALUES (1)').run();
        }),
      ).rejects.toThrow(/no such table: missing/);
      expect(tries).toBe(1);
    } finally {
      close();
    }
  });
});
