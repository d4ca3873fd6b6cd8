// Labelled series on SQLite: per core, per mount, per interface and the `series` field, from real
// stored samples: listed for a node, read raw over short ranges, and from minute buckets (built by
// the rollup run) over long ones, through the routes.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeSample, type Sample } from '../../protocol/index.ts';
import { openSqliteStore } from '../../hub/storage/sqlite/sqlite-store.ts';
import { MAX_SERIES_PER_NODE_MINUTE } from '../../hub/storage/sqlite/labelled-rollups.ts';
import { labelledRoutes } from '../../web/labelled-routes.ts';
import type { LabelledListResponse, LabelledSeriesResponse } from '../../shared/api-types.ts';
import { cleanup, runCleanups, tempDir } from '../helpers/parts.ts';

afterEach(runCleanups);

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);

function sample(seq: number): Sample {
  return {
    v: 1,
    boot: 'b1',
    seq,
    ts_ms: T0 + seq * 10_000, // every 10 s: 6 a minute
    cpu_pct: 10,
    cpu_core_pct: [seq % 2 === 0 ? 10 : 20, 50],
    filesystems: [
      { mount: '/', size_bytes: 1000, used_bytes: 400 + seq, used_pct: 40 },
      { mount: '/boot', size_bytes: 100, used_bytes: 10, used_pct: 10 },
    ],
    net: [{ iface: 'eth0', rx_bps: 1000 * seq, tx_bps: 5 }],
    series: [{ name: 'container_cpu_pct', labels: { container: 'nginx' }, value: 3 }],
  };
}

function open() {
  let now = T0 + 3 * 3_600_000;
  const store = openSqliteStore(join(tempDir(), 'remonitor.db'), { now: () => now });
  cleanup(() => store.close());
  const app = labelledRoutes(store, () => now);
  return { store, app, setNow: (ms: number) => (now = ms) };
}

describe('labelled series', () => {
  it('lists what the newest sample holds, with label sets', async () => {
    const { store, app } = open();
    const batch = [0, 1, 2].map((seq) => ({ node: 'pi', sample: sample(seq), raw: encodeSample(sample(seq)) }));
    store.insertBatch(batch);
    const body = (await (await app.request('/api/nodes/pi/labelled')).json()) as LabelledListResponse;
    const byName = Object.fromEntries(body.metrics.map((m) => [m.name, m]));
    expect(byName['cpu_core_pct']?.labels).toEqual([{ cpu: '0' }, { cpu: '1' }]);
    expect(byName['fs_used_pct']?.labels).toEqual([{ mountpoint: '/' }, { mountpoint: '/boot' }]);
    expect(byName['iface_rx_bps']?.unit).toBe('bytes_per_second');
    expect(byName['container_cpu_pct']).toEqual({
      name: 'container_cpu_pct',
      unit: 'percent',
      description: 'CPU of each container, % of one core (may pass 100)',
      labels: [{ container: 'nginx' }],
    });
    expect((await app.request('/api/nodes/nobody/labelled')).status).toBe(404);
  });

  it('reads raw values over a short range and minute means over a long one', async () => {
    const { store, app } = open();
    const samples = Array.from({ length: 60 }, (_, seq) => sample(seq)); // 10 minutes
    store.insertBatch(samples.map((s) => ({ node: 'pi', sample: s, raw: encodeSample(s) })));

    const raw = (await (await app.request(`/api/nodes/pi/labelled/cpu_core_pct?from=${T0}&to=${T0 + 600_000}`)).json()) as LabelledSeriesResponse;
    expect(raw.resolution).toBe('raw');
    expect(raw.labels).toEqual([{ cpu: '0' }, { cpu: '1' }]);
    expect(raw.data[0]).toHaveLength(60);
    expect(raw.data[1]!.slice(0, 4)).toEqual([10, 20, 10, 20]);
    expect(new Set(raw.data[2])).toEqual(new Set([50]));

    // No buckets before the rollup run; after it, each minute's mean: (3 × 10 + 3 × 20) / 6.
    await store.deriveRollups(async () => {});
    const long = (await (
      await app.request(`/api/nodes/pi/labelled/cpu_core_pct?from=${T0 - 86_400_000}&to=${T0 + 600_000}&points=2000`)
    ).json()) as LabelledSeriesResponse;
    expect(long.resolution).toBe('1m');
    expect(long.data[0]).toHaveLength(10);
    expect(new Set(long.data[1])).toEqual(new Set([15]));
    const mounts = (await (
      await app.request(`/api/nodes/pi/labelled/fs_used_bytes?from=${T0 - 86_400_000}&to=${T0 + 600_000}&points=2000`)
    ).json()) as LabelledSeriesResponse;
    expect(mounts.labels).toEqual([{ mountpoint: '/' }, { mountpoint: '/boot' }]);
    expect(mounts.data[1]![0]).toBe(400 + 2.5); // seqs 0–5 in the first minute
    // Compacted into chunks (older than 2 h): raw reads and a rebuild of the minutes give the same.
    await store.purgeExpired(async () => {});
    expect((store.db.prepare('SELECT count(*) AS n FROM samples').get() as { n: number }).n).toBe(0);
    const fromChunks = (await (await app.request(`/api/nodes/pi/labelled/cpu_core_pct?from=${T0}&to=${T0 + 600_000}`)).json()) as LabelledSeriesResponse;
    expect(fromChunks.data).toEqual(raw.data);
    store.db.exec('DELETE FROM labelled_rollups');
    store.db.transaction(() =>
      store.labelled.rebuild(
        1,
        Array.from({ length: 10 }, (_, i) => T0 / 60_000 + i),
      ),
    )();
    expect(
      (
        (await (
          await app.request(`/api/nodes/pi/labelled/cpu_core_pct?from=${T0 - 86_400_000}&to=${T0 + 600_000}&points=2000`)
        ).json()) as LabelledSeriesResponse
      ).data,
    ).toEqual(long.data);
    const own = (await (
      await app.request(`/api/nodes/pi/labelled/container_cpu_pct?from=${T0 - 86_400_000}&to=${T0 + 600_000}`)
    ).json()) as LabelledSeriesResponse;
    expect(own.labels).toEqual([{ container: 'nginx' }]);
    expect(new Set(own.data[1])).toEqual(new Set([3]));
  });

  it.each([
    ['/api/nodes/pi/labelled/cpu.core', /metric "cpu.core"/],
    ['/api/nodes/pi/labelled/cpu_core_pct?from=yesterday', /from="yesterday"/],
    ['/api/nodes/pi/labelled/cpu_core_pct?points=1', /points="1"/],
  ])('refuses %s, naming the parameter', async (url, message) => {
    const { app } = open();
    const res = await app.request(url);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(message);
  });
});

describe('a node sending ever new label sets', () => {
  it('gets at most MAX_SERIES_PER_NODE_MINUTE of them bucketed a minute, and is told once', async () => {
    let told = 0;
    const store = openSqliteStore(join(tempDir(), 'remonitor.db'), { now: () => T0 + 3_600_000, log: { info: () => void told++ } as never });
    cleanup(() => store.close());
    const many: Sample = {
      v: 1,
      boot: 'b',
      seq: 0,
      ts_ms: T0,
      series: Array.from({ length: MAX_SERIES_PER_NODE_MINUTE + 5 }, (_, i) => ({ name: 'req_ms', labels: { id: String(i) }, value: i })),
    };
    store.insertBatch([{ node: 'pi', sample: many, raw: encodeSample(many) }]);
    await store.deriveRollups(async () => {});
    const rows = store.db.prepare('SELECT count(*) AS n FROM labelled_rollups').get() as { n: number };
    expect(rows.n).toBe(MAX_SERIES_PER_NODE_MINUTE);
    expect(told).toBe(1);
  });
});
