// A SQLite hub's session state beside a connection that holds the write lock (as the writer thread
// does through a purge): a watch sample waits without holding the event loop, and is stored once the
// lock is free.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteDriver } from '../../hub/storage/driver.ts';
import { openDatabase } from '../../shared/sqlite-open.ts';
import { cleanup, quietLog, runCleanups, tempDir } from '../helpers/parts.ts';
import { proc, watchSample } from './state-contract.ts';

afterEach(runCleanups);

describe('SQLite session state under a held write lock', () => {
  it('stores a watch sample after the lock is released, and the event loop runs meanwhile', async () => {
    const path = join(tempDir(), 'hub.db');
    const driver = openSqliteDriver({ sqlitePath: path, log: quietLog });
    cleanup(() => driver.close());
    const holder = openDatabase(path);
    cleanup(() => {
      holder.close();
    });
    holder.exec('BEGIN IMMEDIATE');
    const order: string[] = [];
    // Released from a timer, 300 ms on: only an event loop the write does not hold runs it.
    setTimeout(() => {
      order.push('lock released');
      holder.exec('COMMIT');
    }, 300);
    const sessions = driver.sessionState();
    await sessions.addSample('pi-1', watchSample('record-1', 0, 1000, [proc(10, 1000)]));
    order.push('stored');
    expect(order).toEqual(['lock released', 'stored']);
    expect(await sessions.get('record-1')).toMatchObject({ node: 'pi-1', sample_count: 1 });
  });
});
