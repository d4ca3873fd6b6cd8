// Acks on PostgreSQL, as several hubs share them (hub/storage/postgres/pg-watermarks.ts through PgSampleWriter), on
// a real server: the watermark moves only over contiguous stored seqs, whichever hub stored them;
// two hubs storing one node's samples at once end on the right watermark; a spool report turns
// the seqs an agent lost into a recorded gap. Then a whole hub on PostgreSQL, with an agent.
import { describe, expect, it } from 'vitest';
import { HubService } from '../../cli/hub-service.ts';
import { PackedSamples } from '../../hub/storage/packed-samples.ts';
import { PgSampleWriter } from '../../hub/storage/postgres/pg-sample-writer.ts';
import { openPgStore, type PgStore } from '../../hub/storage/postgres/pg-store.ts';
import type { IncomingSample } from '../../hub/storage/store.ts';
import { encodeSample, type Sample } from '../../protocol/index.ts';
import { allAcked, HUB_ACK_INTERVAL_MS, simAgent } from '../faults/fleet.ts';
import { usePostgres } from '../helpers/use-postgres.ts';
import { cleanup, getJson, quietLog, startBroker, tempDir } from '../helpers/parts.ts';

const server = usePostgres();

const T0 = Date.now() - 60_000;
// One time per seq, as an agent's spooled copy of a sample keeps its own.
const sample = (seq: number, boot = 'boot-1'): Sample => ({ v: 1, boot, seq, ts_ms: T0 + seq, cpu_pct: seq % 100 });
const incoming = (node: string, s: Sample): IncomingSample => ({ node, sample: s, raw: encodeSample(s) });
/** One node's samples of these seqs, packed as ingest hands them to a writer. */
const batch = (node: string, seqs: number[]) => PackedSamples.pack(seqs.map((q) => incoming(node, sample(q))));

async function openStore(url: string): Promise<PgStore> {
  const store = await openPgStore(url);
  cleanup(() => store.close());
  return store;
}

async function watermark(store: PgStore, node: string, boot: string): Promise<{ next_seq: number; above: string[] } | undefined> {
  const { rows } = await store.pool.query(
    'SELECT w.next_seq, w.above FROM ack_watermarks w JOIN boots b ON b.id = w.boot_id JOIN nodes n ON n.id = b.node_id WHERE n.name = $1 AND b.boot = $2',
    [node, boot],
  );
  return rows[0];
}

describe('acks on PostgreSQL', () => {
  it('moves the watermark over contiguous seqs only, and a hub that fills the hole acks past what another stored', async () => {
    const url = await server.createDatabase();
    const hubA = new PgSampleWriter(await openStore(url));
    const storeB = await openStore(url);
    const hubB = new PgSampleWriter(storeB);
    // Hub A stores 0–2 and 5–6; the watermark stops at the hole.
    const a = await hubA.write(batch('n', [0, 1, 2, 5, 6]), []);
    expect(a.acks).toEqual([{ node: 'n', boot: 'boot-1', next: 3 }]);
    expect(await watermark(storeB, 'n', 'boot-1')).toEqual({ next_seq: 3, above: ['5', '6'] });
    // Hub B stores 3–4: its ack covers A's 5–6 too, as the stored ranges are shared.
    const b = await hubB.write(batch('n', [3, 4]), []);
    expect(b.acks).toEqual([{ node: 'n', boot: 'boot-1', next: 7 }]);
    // A replay of stored seqs is a duplicate and moves nothing back.
    const replay = await hubA.write(batch('n', [1, 2]), []);
    expect(replay).toMatchObject({ inserted: 0, duplicates: 2, acks: [{ node: 'n', boot: 'boot-1', next: 7 }] });
  });

  it('ends on the exact watermark when two hubs store one node’s samples at the same time', async () => {
    const url = await server.createDatabase();
    const writers = [new PgSampleWriter(await openStore(url)), new PgSampleWriter(await openStore(url))];
    const N = 2000;
    // Each hub gets every other seq, in batches of 50, as a shared subscription deals them out.
    const batchesOf = (parity: number) => {
      const seqs = Array.from({ length: N / 2 }, (_, i) => 2 * i + parity);
      return Array.from({ length: seqs.length / 50 }, (_, i) => seqs.slice(i * 50, i * 50 + 50));
    };
    await Promise.all(
      writers.map(async (w, parity) => {
        for (const seqs of batchesOf(parity)) await w.write(batch('busy', seqs), []);
      }),
    );
    const store = await openStore(url);
    expect(await watermark(store, 'busy', 'boot-1')).toEqual({ next_seq: N, above: [] });
    const { rows } = await store.pool.query<{ n: number }>('SELECT count(*) AS n FROM samples');
    expect(rows[0]!.n).toBe(N);
  });

  it('records what a spool lost as a gap and acks past it', async () => {
    const url = await server.createDatabase();
    const store = await openStore(url);
    const hub = new PgSampleWriter(store);
    await hub.write(batch('full', [0, 1, 2, 3, 4, 8]), []);
    // The agent's spool now starts at seq 10: 5–7 and 9 were dropped before any hub had them.
    const ack = await hub.spoolReport('full', { spool_boot: 'boot-1', spool_first_seq: 10, spool_dropped: 4 });
    expect(ack).toEqual({ node: 'full', boot: 'boot-1', next: 10 });
    const { rows } = await store.pool.query('SELECT from_seq, to_seq, reason FROM sample_gaps ORDER BY from_seq');
    expect(rows).toEqual([
      { from_seq: 5, to_seq: 7, reason: 'spool-dropped' },
      { from_seq: 9, to_seq: 9, reason: 'spool-dropped' },
    ]);
    expect((await hub.write(batch('full', [10, 11]), [])).acks).toEqual([{ node: 'full', boot: 'boot-1', next: 12 }]);
  });
});

describe('a hub on PostgreSQL', () => {
  it('stores, acks and serves an agent as the SQLite hub does, with its sessions in the database too', async () => {
    const { url: brokerUrl } = await startBroker();
    const storage = await server.createDatabase();
    const hub = await HubService.open({ brokerUrl, dataDir: tempDir(), storage, httpPort: 0, log: quietLog, ackIntervalMs: HUB_ACK_INTERVAL_MS });
    await hub.start();
    cleanup(() => hub.stop());
    const api = `http://127.0.0.1:${hub.httpPort}`;
    const agent = simAgent(brokerUrl, 'pg-node', { intervalMs: 100 });
    await agent.start();
    await new Promise((r) => setTimeout(r, 2000));
    agent.pause();
    await allAcked([agent], 20_000);
    const sent = agent.replayer.spool.nextSeq;
    expect(sent).toBeGreaterThan(10);

    const nodes = await getJson<{ nodes: { name: string; status: string }[] }>(`${api}/api/nodes`);
    expect(nodes.body.nodes).toMatchObject([{ name: 'pg-node', status: 'online' }]);
    const series = await getJson<{ data: [number[], ...number[][]] }>(`${api}/api/nodes/pg-node/series?metrics=cpu_pct&from=-10m&points=1000`);
    expect(series.status).toBe(200);
    expect(series.body.data[0].length).toBe(sent);
    expect(await watermark(hub.store as PgStore, 'pg-node', agent.bootId)).toEqual({ next_seq: sent, above: [] });
    expect((await getJson(`${api}/api/sessions`)).status).toBe(200);
  });
});
