// The PostgreSQL store against a real PostgreSQL server (one per file, a fresh database per test):
// the storage contract, then what only this backend has: daily partitions, two hubs writing the
// same database, replays.
import { afterAll, describe, expect, it } from 'vitest';
import { listPartitionDays, partitionName } from '../../hub/storage/postgres/pg-partitions.ts';
import { openPgStore, type PgStore } from '../../hub/storage/postgres/pg-store.ts';
import type { IncomingSample } from '../../hub/storage/store.ts';
import { encodeSample, type Sample } from '../../protocol/index.ts';
import { usePostgres } from '../helpers/use-postgres.ts';
import { storageContract } from './storage-contract.ts';

const HOUR = 3_600_000;
const DAY = 86_400_000;

const server = usePostgres();

storageContract('PostgreSQL', async ({ now, retention }) => openPgStore(await server.createDatabase(), { now, retention }));

describe('PostgreSQL store', () => {
  const now = Date.UTC(2026, 10, 26, 12, 0, 0);
  const sample = (seq: number, ts: number, extra: Partial<Sample> = {}): Sample => ({ v: 1, boot: 'b1', seq, ts_ms: ts, cpu_pct: seq % 100, ...extra });
  const incoming = (node: string, s: Sample): IncomingSample => ({ node, sample: s, raw: encodeSample(s) });
  const stores: PgStore[] = [];
  const open = async (url: string, options: Parameters<typeof openPgStore>[1] = {}) => {
    const store = await openPgStore(url, { now: () => now, ...options });
    stores.push(store);
    return store;
  };
  const count = async (store: PgStore, node?: string) =>
    (
      await store.pool.query<{ n: number }>(
        node ? 'SELECT count(*) AS n FROM samples JOIN nodes ON nodes.id = node_id WHERE name = $1' : 'SELECT count(*) AS n FROM samples',
        node ? [node] : [],
      )
    ).rows[0]!.n;
  afterAll(async () => {
    for (const s of stores) await s.close();
  });

  it('creates a daily partition for each day samples arrive for, and today and tomorrow ahead', async () => {
    const store = await open(await server.createDatabase());
    const day = (ms: number) => ms - (ms % DAY);
    await store.insertBatch([incoming('a', sample(0, now - 3 * DAY)), incoming('a', sample(1, now - DAY)), incoming('a', sample(2, now))]);
    const days = (await listPartitionDays(store.pool)).sort((a, b) => a - b);
    expect(days).toEqual([day(now - 3 * DAY), day(now - DAY), day(now), day(now + DAY)]);
    const { rows } = await store.pool.query<{ relname: string }>(
      "SELECT relname FROM pg_class WHERE relname LIKE 'samples\\_%' AND relkind = 'r' ORDER BY relname",
    );
    expect(rows.map((r) => r.relname)).toEqual(days.map(partitionName));
    expect(partitionName(day(now))).toBe('samples_20261126');
  });

  it('drops whole partitions past the raw retention, and keeps the day that still holds live data', async () => {
    let clock = now;
    const store = await open(await server.createDatabase(), { now: () => clock, retention: { raw: DAY, '1m': 14 * DAY, '15m': 90 * DAY, '1h': 730 * DAY } });
    const batch = [5, 3, 1, 0].flatMap((d, i) => [0, 1, 2].map((k) => incoming('a', sample(i * 3 + k, now - d * DAY - k * HOUR))));
    await store.insertBatch(batch);
    // Raw keeps a day: the days 5 and 3 days back go whole, 3 rows each; yesterday's day partly
    // within retention, stays, as does today's.
    const purged = await store.purgeExpired(async () => undefined);
    expect(purged).toBe(6);
    const days = await listPartitionDays(store.pool);
    expect(days).not.toContain(now - 5 * DAY - ((now - 5 * DAY) % DAY));
    expect(days).not.toContain(now - 3 * DAY - ((now - 3 * DAY) % DAY));
    expect(await count(store)).toBe(6);
    expect(await store.purgeExpired(async () => undefined)).toBe(0);
    const today = (await store.querySeries({ node: 'a', metrics: ['cpu_pct'], fromMs: now - 3 * HOUR, toMs: now, maxPoints: 1000 }))!;
    expect(today.data[1]).toEqual([11, 10, 9]);
    // A sample for a day already dropped: its partition is made again, it is stored.
    clock += 1;
    expect(await store.insertBatch([incoming('a', sample(100, now - 5 * DAY))])).toEqual({ inserted: 1, duplicates: 0 });
  });

  it('stores exactly one copy when two hubs store the same batch at once', async () => {
    const url = await server.createDatabase();
    // Both open a new database at once too: the schema is created once, under the advisory lock.
    const [one, two] = await Promise.all([open(url), open(url)]);
    const batch: IncomingSample[] = [];
    for (let node = 0; node < 5; node++) {
      for (let seq = 0; seq < 400; seq++) batch.push(incoming(`n${node}`, sample(seq, now - DAY + seq * 10_000)));
    }
    const results = await Promise.all([one!.insertBatch(batch), two!.insertBatch(batch)]);
    expect(results[0]!.inserted + results[1]!.inserted).toBe(batch.length);
    expect(results[0]!.duplicates + results[1]!.duplicates).toBe(batch.length);
    expect(await count(one!)).toBe(batch.length);
    expect((await one!.listNodes()).map((n) => n.name)).toEqual(['n0', 'n1', 'n2', 'n3', 'n4']);
    expect((await two!.nodeDetail('n3'))!.last_seen_ms).toBe(now - DAY + 399 * 10_000);
  });

  it('counts a replayed batch as duplicates, also after a restart, and stores what is new in it', async () => {
    const url = await server.createDatabase();
    const first = await open(url);
    const live = Array.from({ length: 50 }, (_, i) => sample(i, now - 50_000 + i * 1000));
    expect(await first.insertBatch(live.map((s) => incoming('pi', s)))).toEqual({ inserted: 50, duplicates: 0 });
    // The agent replays its spool: the same samples, marked historical, beside new live ones.
    const replay = live.slice(20).map((s) => ({ ...s, historical: 1 }));
    const fresh = [sample(50, now + 1000), sample(51, now + 2000)];
    expect(await first.insertBatch([...replay, ...fresh].map((s) => incoming('pi', s)))).toEqual({ inserted: 2, duplicates: 30 });
    await first.close();
    stores.splice(stores.indexOf(first), 1);
    const restarted = await open(url); // nothing cached: the database alone decides
    expect(await restarted.insertBatch(live.map((s) => incoming('pi', s)))).toEqual({ inserted: 0, duplicates: 50 });
    // Another boot of the same node reuses seq 0..: new samples, not duplicates.
    expect(await restarted.insertBatch([incoming('pi', { ...sample(0, now + 3000), boot: 'b2' })])).toEqual({ inserted: 1, duplicates: 0 });
    expect(await count(restarted, 'pi')).toBe(53);
  });

  it('says which server it could not open, without the password', async () => {
    const { port } = new URL(server.url);
    const err = await openPgStore(`postgres://postgres:s3cret@127.0.0.1:${port}/no_such_db`).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/could not open the PostgreSQL store at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/no_such_db: .*no_such_db/);
    expect((err as Error).message).not.toContain('s3cret');
  });
});
