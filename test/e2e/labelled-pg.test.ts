// Labelled series on a PostgreSQL hub, end to end: a real broker, a hub on SQLite and a hub on a
// real PostgreSQL server both subscribed to it, samples with cores, mounts, interfaces and a
// `series` field published as an agent would. Both hubs answer GET /api/nodes/:node/labelled and
// /labelled/:metric the same, raw and, after their rollup runs (every minute), from minute buckets;
// their /metrics give the same labelled gauges.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { HubService } from '../../cli/hub-service.ts';
import type { LabelledListResponse, LabelledSeriesResponse } from '../../shared/api-types.ts';
import { fakeAgentClient, publishNode, sampleAt } from '../helpers/fleet-publisher.ts';
import { startPostgres, type PostgresServer } from '../helpers/postgres.ts';
import { cleanup, getJson, quietLog, runCleanups, startBroker, startHub, tempDir, waitFor } from '../helpers/parts.ts';

afterEach(runCleanups);

describe('labelled series on a PostgreSQL hub', () => {
  let pg: PostgresServer;
  afterAll(async () => pg?.stop());

  it('are stored and served as the SQLite hub serves them', async () => {
    pg = await startPostgres();
    const { url } = await startBroker();
    const { api: sqliteApi } = await startHub(url, tempDir(), { alarms: false });
    const pgHub = await HubService.open({ brokerUrl: url, dataDir: tempDir(), httpPort: 0, log: quietLog, storage: await pg.createDatabase(), alarms: false });
    await pgHub.start();
    cleanup(() => pgHub.stop());
    const pgApi = `http://127.0.0.1:${pgHub.httpPort}`;

    // 60 samples 10 s apart, the last a second ago and live, the others replayed as from a spool
    // (with their age, so each hub keeps their times): ten minutes of two cores, two mounts, an interface, a container
    // and a script's metric with two labels.
    const now = Date.now();
    const first = now - 1000 - 59 * 10_000;
    const samples = Array.from({ length: 60 }, (_, seq) =>
      sampleAt(seq, first + seq * 10_000, {
        ...(seq < 59 ? { historical: 1, age_ms: now - (first + seq * 10_000) } : {}),
        cpu_core_pct: [seq % 2 === 0 ? 10 : 20, 40 + (seq % 5)],
        filesystems: [
          { mount: '/', size_bytes: 32_000_000_000, used_bytes: 8_000_000_000 + seq * 4096, used_pct: 25 },
          { mount: '/boot/firmware', size_bytes: 500_000_000, used_bytes: 60_000_000, used_pct: 12 },
        ],
        net: [{ iface: 'eth0', rx_bps: 1000 * seq, tx_bps: 500 }],
        series: [
          { name: 'container_cpu_pct', labels: { container: 'nginx' }, value: 2 + (seq % 4) },
          { name: 'queue_depth', labels: { queue: 'mail', host: 'mx1' }, value: seq % 7 },
        ],
      }),
    );
    await publishNode(await fakeAgentClient(url), 'lab-pi', samples);

    const both = async <T>(path: string): Promise<[T, T]> => [(await getJson<T>(sqliteApi + path)).body, (await getJson<T>(pgApi + path)).body];
    const raw = (metric: string, points = 1000) => `/api/nodes/lab-pi/labelled/${metric}?from=${first - 1000}&to=${now + 1000}&points=${points}`;
    await waitFor(
      'all 60 samples on both hubs',
      async () => (await both<LabelledSeriesResponse>(raw('cpu_core_pct'))).every((s) => s.data?.[0]?.length === 60),
      60_000,
      250,
    );

    const [sqliteList, pgList] = await both<LabelledListResponse>('/api/nodes/lab-pi/labelled');
    expect(pgList).toEqual(sqliteList);
    const metrics = pgList.metrics.map((m) => m.name);
    expect(metrics).toEqual(expect.arrayContaining(['cpu_core_pct', 'fs_used_bytes', 'iface_rx_bps', 'container_cpu_pct', 'queue_depth']));
    for (const metric of metrics) {
      const [a, b] = await both<LabelledSeriesResponse>(raw(metric));
      expect(b, metric).toEqual(a);
      expect(b.resolution).toBe('raw');
      const [c, d] = await both<LabelledSeriesResponse>(raw(metric, 20)); // means over 31 s steps
      expect(d, metric).toEqual(c);
      expect(d.step_s).toBeGreaterThan(0);
    }
    const [, queue] = await both<LabelledSeriesResponse>(raw('queue_depth'));
    expect(queue.labels).toEqual([{ host: 'mx1', queue: 'mail' }]);
    expect(queue.data[1]!.slice(0, 8)).toEqual([0, 1, 2, 3, 4, 5, 6, 0]);

    // Over two hours: minute means, once each hub's rollup run (every minute) has built them.
    const long = (metric: string) => `/api/nodes/lab-pi/labelled/${metric}?from=${now - 2 * 3_600_000}&to=${now + 1000}`;
    const minutes = Math.floor((now - 1000) / 60_000) - Math.floor(first / 60_000) + 1;
    await waitFor(
      'minute buckets on both hubs',
      async () => (await both<LabelledSeriesResponse>(long('cpu_core_pct'))).every((s) => s.data?.[0]?.length === minutes),
      150_000,
      1000,
    );
    for (const metric of metrics) {
      const [a, b] = await both<LabelledSeriesResponse>(long(metric));
      expect(b, metric).toEqual(a);
      expect([b.resolution, b.data[0]!.length]).toEqual(['1m', minutes]);
    }

    // /metrics: the labelled gauges (cores, mounts, containers, a node's own) as the SQLite hub gives them.
    const gauges = async (api: string) =>
      (await (await fetch(`${api}/metrics`)).text())
        .split('\n')
        .filter((l) => /^remonitor_\w+\{node="lab-pi",(cpu|mountpoint|container|host)=/.test(l))
        .sort();
    const expected = await gauges(sqliteApi);
    expect(expected.length).toBeGreaterThanOrEqual(6);
    await waitFor('the same labelled gauges in /metrics', async () => JSON.stringify(await gauges(pgApi)) === JSON.stringify(expected), 15_000, 250);
  }, 240_000);
});
