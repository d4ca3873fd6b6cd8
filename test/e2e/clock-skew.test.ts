// Time you can trust, end to end: a real broker, a real hub (SQLite, alarms) and a plain MQTT
// client publishing samples whose ts_ms no real clock would give (0, 1, 2000, 3000, now + 10 years,
// 2^53 − 1), replays with and without age_ms, and a second copy of a sample under another ts_ms.
// What is stored, the duplicate counter, last_seen, clock_skew_s in /api/nodes and the clock alarm.
import { connectAsync, type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import type { SqliteStore } from '../../hub/storage/sqlite/sqlite-store.ts';
import { CLOCK_TOLERANCE_MS, encodeSample, EARLIEST_TS_MS, topics, type Sample } from '../../protocol/index.ts';
import type { AlarmsResponse } from '../../shared/alarm-types.ts';
import type { NodesResponse, NodeSummary, SeriesResponse } from '../../shared/api-types.ts';
import { cleanup, getJson, runCleanups, startBroker, startHub, waitFor } from '../helpers/parts.ts';

afterEach(runCleanups);

const YEAR_MS = 365.25 * 86_400_000;

describe('a node whose clock is wrong', () => {
  it('has its samples stored at the hub’s time, is flagged and alarmed, and never pins last seen', async () => {
    const { url } = await startBroker();
    const { hub, api } = await startHub(url, undefined, { ackIntervalMs: 0, alarms: { tickMs: 100 } });
    const client: MqttClient = await connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0 });
    cleanup(() => client.endAsync());
    const publish = (node: string, s: Sample) => client.publishAsync(topics.metrics(node), Buffer.from(encodeSample(s)), { qos: 1 });
    const sample = (seq: number, ts: number, cpu: number, extra: Partial<Sample> = {}): Sample => ({
      v: 1,
      boot: 'b-wrong-clock',
      seq,
      ts_ms: ts,
      cpu_pct: cpu,
      ...extra,
    });
    const stats = hub.ingest.stats;
    const db = (hub.store as SqliteStore).db;
    const storedTimes = (node: string) =>
      db.prepare('SELECT ts_ms, seq, cpu_pct FROM samples JOIN nodes ON nodes.id = node_id WHERE name = ? ORDER BY seq').raw().all(node) as [
        number,
        number,
        number,
      ][];
    const node = async (name: string) => (await getJson<NodesResponse>(`${api}/api/nodes`)).body.nodes.find((n) => n.name === name);

    // Live samples at impossible times, one at a time so that each has an arrival of its own.
    const absurd = [0, 1, Date.UTC(2000, 0, 1), Date.UTC(3000, 0, 1), Date.now() + 10 * YEAR_MS, Number.MAX_SAFE_INTEGER];
    const before = Date.now();
    for (const [i, ts] of absurd.entries()) {
      await publish('pi-clock', sample(i, ts, 10 + i));
      await waitFor(`sample ${i} stored`, () => stats.stored >= i + 1);
    }
    const after = Date.now();
    expect(stats.timeCorrected).toBe(absurd.length);

    // Stored, every one, at the hub's time: between publishing the first and the last being stored.
    const stored = storedTimes('pi-clock');
    expect(stored.map(([, seq, cpu]) => [seq, cpu])).toEqual(absurd.map((_, i) => [i, 10 + i]));
    for (const [ts] of stored) {
      expect(ts).toBeGreaterThanOrEqual(before);
      expect(ts).toBeLessThanOrEqual(after);
    }
    // And charted there: the API's series over that span holds all six.
    const series = (await getJson<SeriesResponse>(`${api}/api/nodes/pi-clock/series?metrics=cpu_pct&from=${before - 1}&to=${after + 1}&points=100`)).body;
    expect(series.data[1]).toEqual([10, 11, 12, 13, 14, 15]);

    // Flagged: its clock is off by the newest sample's amount (2^53 − 1 against now); last seen is now, not 2^53 − 1.
    let summary = (await node('pi-clock'))!;
    expect(summary.last_seen_ms).toBeGreaterThanOrEqual(before);
    expect(summary.last_seen_ms).toBeLessThanOrEqual(after);
    expect(summary.clock_skew_s! * 1000).toBeGreaterThan(Number.MAX_SAFE_INTEGER - after - 1000);
    expect(summary.latest?.ts_ms).toBe(stored.at(-1)![0]); // the latest record carries the stored time too
    // Its own alarm, RED, with the skew in seconds.
    const alarm = await waitFor('the clock alarm', async () =>
      (await getJson<AlarmsResponse>(`${api}/api/alarms?node=pi-clock`)).body.alarms.find((a) => a.rule_id === 'clock' && a.state === 'red'),
    );
    expect(alarm.metric).toBe('clock_skew');
    expect(alarm.threshold).toBe(CLOCK_TOLERANCE_MS / 1000);
    expect(alarm.value).toBeGreaterThan(1e12);

    // Its clock is set right: the next live sample is stored at its own time, the flag and the alarm go.
    const rightTs = Date.now();
    await publish('pi-clock', sample(6, rightTs, 16));
    await waitFor('the right sample stored', () => stats.stored >= absurd.length + 1);
    expect(storedTimes('pi-clock').at(-1)).toEqual([rightTs, 6, 16]);
    summary = (await node('pi-clock'))!;
    expect(Math.abs(summary.clock_skew_s!)).toBeLessThan(5); // a few ms of network on a quiet machine; a loaded one is slower
    await waitFor(
      'the clock alarm cleared',
      async () => !(await getJson<AlarmsResponse>(`${api}/api/alarms?node=pi-clock`)).body.alarms.some((a) => a.rule_id === 'clock'),
    );

    // Replays (historical): one of unknown age at an impossible time goes to its arrival; one whose
    // age the agent knows goes to arrival − age whatever its ts_ms; one of a possible time stays.
    const replayed = Date.now();
    await publish('pi-clock', sample(7, 0, 17, { historical: 1 }));
    await publish('pi-clock', sample(8, 5_000, 18, { historical: 1, age_ms: 3_600_000 }));
    await publish('pi-clock', sample(9, rightTs - 60_000, 19, { historical: 1 }));
    await waitFor('the replays stored', () => stats.stored >= absurd.length + 4);
    const [atArrival, byAge, asSent] = storedTimes('pi-clock').slice(7);
    expect(atArrival![0]).toBeGreaterThanOrEqual(replayed);
    expect(atArrival![0]).toBeLessThanOrEqual(Date.now());
    expect(byAge![0]).toBeGreaterThanOrEqual(replayed - 3_600_000);
    expect(byAge![0]).toBeLessThanOrEqual(Date.now() - 3_600_000);
    expect(asSent).toEqual([rightTs - 60_000, 9, 19]);
    // A replay tells nothing of the clock now: the skew stays what the last live sample measured.
    expect((await node('pi-clock'))!.clock_skew_s).toBe(summary.clock_skew_s);

    // Nothing of this node is stored before 2020 or past the hub's clock and the tolerance.
    for (const [ts] of storedTimes('pi-clock')) {
      expect(ts).toBeGreaterThanOrEqual(EARLIEST_TS_MS);
      expect(ts).toBeLessThanOrEqual(Date.now() + CLOCK_TOLERANCE_MS);
    }
  });

  it('counts and drops a second sample with the same (node, boot, seq) and another ts_ms', async () => {
    const { url } = await startBroker();
    const { hub, api } = await startHub(url, undefined, { ackIntervalMs: 0, alarms: false });
    const client = await connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0 });
    cleanup(() => client.endAsync());
    const first: Sample = { v: 1, boot: 'b-dup', seq: 0, ts_ms: Date.now(), cpu_pct: 21 };
    await client.publishAsync(topics.metrics('pi-dup'), Buffer.from(encodeSample(first)), { qos: 1 });
    await waitFor('the first copy stored', () => hub.ingest.stats.stored === 1);
    const seen = ((await getJson<NodesResponse>(`${api}/api/nodes`)).body.nodes.find((n) => n.name === 'pi-dup') as NodeSummary).last_seen_ms;

    // The same identity 30 s later by its clock (within the tolerance: it would be stored at its own time), another value.
    await client.publishAsync(topics.metrics('pi-dup'), Buffer.from(encodeSample({ ...first, ts_ms: first.ts_ms + 30_000, cpu_pct: 99 })), { qos: 1 });
    await waitFor('the copy counted', () => hub.ingest.stats.duplicates === 1);
    expect(hub.ingest.stats.stored).toBe(1);
    const rows = (hub.store as SqliteStore).db.prepare("SELECT ts_ms, cpu_pct FROM samples JOIN nodes ON nodes.id = node_id WHERE name = 'pi-dup'").raw().all();
    expect(rows).toEqual([[first.ts_ms, 21]]);
    const after = (await getJson<NodesResponse>(`${api}/api/nodes`)).body.nodes.find((n) => n.name === 'pi-dup')!;
    expect(after.last_seen_ms).toBe(seen);
    expect(after.latest?.cpu_pct).toBe(21);
  });
});
