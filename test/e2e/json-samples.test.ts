// JSON samples on remonitor/<node>/json through a real broker and a real hub (SQLite file, REST
// API): stored with their values; refused with the reason counted; given an identity by the hub
// when they come without one (logged once per node, never acked); acked like CBOR when they carry one.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { DB_FILE } from '../../cli/hub-service.ts';
import { decodeAck, topics, type Ack } from '../../protocol/index.ts';
import { cleanup, getJson, runCleanups, startBroker, startHub, tempDir, waitFor } from '../helpers/parts.ts';
import { recordingLog } from '../helpers/recording-log.ts';

afterEach(runCleanups);

async function jsonHub() {
  const { url } = await startBroker();
  const dataDir = tempDir();
  const { log, lines } = recordingLog();
  // Acks after every commit, so that an ack that should not exist would have come by the time the next one does.
  const { hub, api } = await startHub(url, dataDir, { log, ackIntervalMs: 0 });
  const device = await connectAsync(url, { protocolVersion: 4 });
  cleanup(() => device.endAsync());
  const send = (node: string, body: unknown) => device.publishAsync(topics.json(node), typeof body === 'string' ? body : JSON.stringify(body), { qos: 1 });
  const watermarks = (node: string) => {
    const db = new Database(join(dataDir, DB_FILE), { readonly: true });
    try {
      return db.prepare<[string], { boot: string; next_seq: number }>('SELECT boot, next_seq FROM ack_watermarks WHERE node = ? ORDER BY boot').all(node);
    } finally {
      db.close();
    }
  };
  const series = async (node: string, metrics: string) =>
    (await getJson(`${api}/api/nodes/${node}/series?metrics=${metrics}&from=-1h`)).body.data as number[][];
  return { url, hub, api, lines, send, watermarks, series };
}

async function ackListener(url: string, node: string): Promise<Ack[]> {
  const listener: MqttClient = await connectAsync(url, { protocolVersion: 4 });
  cleanup(() => listener.endAsync());
  const heard: Ack[] = [];
  listener.on('message', (_topic, payload) => heard.push(decodeAck(payload)));
  await listener.subscribeAsync(topics.ack(node), { qos: 1 });
  return heard;
}

describe('JSON samples through a real hub', () => {
  it('stores samples sent without identity under one the hub assigns, says so once per node, and acks none of them', async () => {
    const { url, hub, lines, send, watermarks, series } = await jsonHub();
    const heard = await ackListener(url, 'esp-a');
    const before = Date.now();
    for (let i = 0; i < 3; i++) await send('esp-a', { cpu_pct: 10 + i, mem_pct: 40.5, series: [['wifi_rssi_dbm', { ssid: 'home' }, -60 - i]] });
    await send('esp-b', { temp_c: 41.5 });
    await waitFor('4 samples stored', () => hub.ingest.stats.stored >= 4);

    const [times, cpu, mem] = await series('esp-a', 'cpu_pct,mem_pct');
    expect(cpu).toEqual([10, 11, 12]);
    expect(mem).toEqual([40.5, 40.5, 40.5]);
    // No ts_ms: taken as it arrived.
    for (const t of times!) expect(t * 1000).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect((await series('esp-b', 'temp_c'))[1]).toEqual([41.5]);

    // One boot id for this hub start, seqs from 0 without a gap: the watermark stands at 3.
    const [mark, ...others] = watermarks('esp-a');
    expect(others).toEqual([]);
    expect(mark!.boot).toMatch(/^hub-[0-9a-f]{12}$/);
    expect(mark!.next_seq).toBe(3);
    expect(watermarks('esp-b')).toEqual([{ boot: mark!.boot, next_seq: 1 }]);

    const said = lines.filter((l) => /assigns them/.test(l.msg));
    expect(said.map((l) => l.node).sort()).toEqual(['esp-a', 'esp-b']);

    // A device with its own identity is acked; the assigned one never was.
    await send('esp-a', { boot: 'esp32-3f9a1c0b', seq: 0, cpu_pct: 13 });
    await waitFor('the ack of the identified sample', () => heard.some((a) => a.boot === 'esp32-3f9a1c0b'));
    expect(heard.every((a) => a.boot === 'esp32-3f9a1c0b')).toBe(true);
    expect(hub.ingest.stats.rejected).toBe(0);
  });

  it('keeps identity when sent: acked as CBOR samples are, a copy counted as a duplicate, ts_ms and v kept', async () => {
    const { url, hub, send, watermarks, series } = await jsonHub();
    const heard = await ackListener(url, 'esp-c');
    const t0 = Date.now() - 30_000; // within the clock tolerance: stored at the node's own times
    for (let seq = 0; seq < 3; seq++) await send('esp-c', { v: 1, boot: 'b-3f9a', seq, ts_ms: t0 + seq * 1000, cpu_pct: 20 + seq });
    await waitFor('an ack of all three', () => heard.some((a) => a.boot === 'b-3f9a' && a.next === 3));
    await send('esp-c', { v: 1, boot: 'b-3f9a', seq: 1, ts_ms: t0 + 1000, cpu_pct: 99 });
    await waitFor('the copy counted', () => hub.ingest.stats.duplicates >= 1);

    const [times, cpu] = await series('esp-c', 'cpu_pct');
    expect(times).toEqual([0, 1, 2].map((i) => (t0 + i * 1000) / 1000));
    expect(cpu).toEqual([20, 21, 22]);
    expect(watermarks('esp-c')).toEqual([{ boot: 'b-3f9a', next_seq: 3 }]);
    expect(hub.ingest.stats).toMatchObject({ received: 4, stored: 3, rejected: 0, timeCorrected: 0 });
  });

  it('refuses a bad JSON sample, counts it under its reason, and goes on storing good ones', async () => {
    const { hub, send, series } = await jsonHub();
    const bad = [{ cpu_pct: 'high' }, { cpu_pct: 12, filesystems: [['/', 100, 50]] }, { boot: 'b-1' }, [1, 2, 3], 'cpu_pct=12', ''];
    for (const body of bad) await send('esp-d', body);
    await send('esp-d', { cpu_pct: 7 });
    await waitFor('the good sample stored', () => hub.ingest.stats.stored >= 1);
    await waitFor('every bad one counted', () => hub.ingest.stats.rejected >= bad.length);

    expect(hub.ingest.stats).toMatchObject({ received: bad.length + 1, stored: 1, rejected: bad.length });
    expect(hub.ingest.stats.rejectedByReason).toEqual({
      'sample: field "cpu_pct" (key 4) must be a finite number': 1,
      'sample: field "filesystems" (key 16)[i] must be an array of 4 items': 1,
      'sample: field "seq" (key 2) is missing: "boot" and "seq" come together or not at all': 1,
      'sample: expected a JSON object': 1,
      'sample: not valid JSON': 1,
      'sample: empty payload': 1,
    });
    expect((await series('esp-d', 'cpu_pct'))[1]).toEqual([7]);
  });

  it('places a JSON sample whose clock is far off at its arrival, as it does a CBOR one', async () => {
    const { hub, send, series } = await jsonHub();
    const before = Date.now();
    await send('esp-e', { boot: 'b-rtc', seq: 0, ts_ms: Date.UTC(2000, 0, 1) + 5000, cpu_pct: 3 }); // an ESP32 that never got NTP
    await waitFor('stored', () => hub.ingest.stats.stored >= 1);
    expect(hub.ingest.stats.timeCorrected).toBe(1);
    const [times] = await series('esp-e', 'cpu_pct');
    expect(times![0]! * 1000).toBeGreaterThanOrEqual(before - 1000);
  });
});
