// The REST API over a real SQLite store, through Hono's app.request (no socket needed here).
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LiveFeed } from '../../hub/live-feed.ts';
import { openSqliteStore, type SqliteStore } from '../../hub/storage/sqlite/sqlite-store.ts';
import { encodeSample, type Sample } from '../../protocol/index.ts';
import { createApp } from '../../web/app.ts';
import { runCleanups, tempDir } from '../helpers/parts.ts';

const NOW = 1_800_000_000_000;
let store: SqliteStore;
let app: ReturnType<typeof createApp>;

function sample(seq: number, tsMs: number, cpu: number): Sample {
  return { v: 1, boot: 'b1', seq, ts_ms: tsMs, cpu_pct: cpu, mem_pct: 40, filesystems: [{ mount: '/', size_bytes: 100, used_bytes: 70, used_pct: 70 }] };
}
function insert(node: string, samples: Sample[]) {
  return store.insertBatch(samples.map((s) => ({ node, sample: s, raw: encodeSample(s) })));
}

beforeEach(() => {
  store = openSqliteStore(join(tempDir(), 'api.db'));
  app = createApp({ store, feed: new LiveFeed(), now: () => NOW });
});
afterEach(async () => {
  store.close();
  await runCleanups();
});

describe('GET /api/nodes/:node/series', () => {
  it('returns raw samples in uPlot shape when they fit, with a null across a gap', async () => {
    // 10 samples 1 s apart, a 60 s silence, 5 more.
    const before = Array.from({ length: 10 }, (_, i) => sample(i, NOW - 120_000 + i * 1000, i));
    const after = Array.from({ length: 5 }, (_, i) => sample(10 + i, NOW - 50_000 + i * 1000, 50 + i));
    insert('n1', [...before, ...after]);
    const res = await app.request('/api/nodes/n1/series?metrics=cpu_pct,disk_pct&from=-5m&to=now');
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.step_s).toBeNull();
    const [times, cpu, disk] = body.data;
    expect(times).toHaveLength(16);
    expect(times[0]).toBe((NOW - 120_000) / 1000);
    expect(cpu.slice(0, 10)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(cpu[10]).toBeNull(); // the gap
    expect(cpu.slice(11)).toEqual([50, 51, 52, 53, 54]);
    expect(disk[0]).toBe(70);
  });

  it('averages into buckets so that a chart never gets more points than asked', async () => {
    const rows = Array.from({ length: 600 }, (_, i) => sample(i, NOW - 600_000 + i * 1000, i % 10));
    insert('n1', rows);
    const res = await app.request('/api/nodes/n1/series?metrics=cpu_pct&from=-10m&points=60');
    const body = await res.json();
    expect(body.step_s).toBe(10);
    const [times, cpu] = body.data;
    expect(times.length).toBeLessThanOrEqual(61);
    expect(times.length).toBeGreaterThanOrEqual(59);
    // Each 10 s bucket holds 0..9 once: mean 4.5.
    expect(cpu.filter((v: number | null) => v !== null).every((v: number) => v === 4.5)).toBe(true);
  });

  it('serves the default metric set when none is named', async () => {
    insert('n1', [sample(0, NOW - 1000, 5)]);
    const body = await (await app.request('/api/nodes/n1/series')).json();
    // Every metric the node page draws (protocol/metrics.ts).
    expect(body.metrics).toEqual([
      'cpu_pct',
      'mem_pct',
      'swap_pct',
      'disk_pct',
      'disk_read_bps',
      'disk_write_bps',
      'net_rx_bps',
      'net_tx_bps',
      'temp_c',
      'load_1',
      'load_5',
      'load_15',
    ]);
    expect(body.data).toHaveLength(13);
  });

  it.each([
    ['/api/nodes/n1/series?metrics=cpu_pct,bogus', 400, /unknown metric "bogus"/],
    ['/api/nodes/n1/series?from=yesterday', 400, /from="yesterday": expected epoch ms/],
    ['/api/nodes/n1/series?to=-1x', 400, /to="-1x"/],
    ['/api/nodes/n1/series?from=-1h&to=-2h', 400, /must be before/],
    ['/api/nodes/n1/series?points=1', 400, /points="1"/],
    ['/api/nodes/n1/series?points=abc', 400, /points="abc"/],
    // Every problem at once, each with its parameter and value.
    [
      '/api/nodes/n1/series?metrics=bogus&from=yesterday&points=1',
      400,
      /^metrics="bogus": unknown metric "bogus"; known: .*; from="yesterday": expected epoch ms, "now" or relative like -1h; points="1": expected an integer from 2 to 5000$/,
    ],
    ['/api/nodes?fields=all', 400, /^fields="all": the one choice is "fleet"$/],
    ['/api/nodes/bad%20name/series', 400, /contains " "/],
    ['/api/nodes/ghost/series', 404, /no node named "ghost"/],
    ['/api/nodes/ghost', 404, /no node named "ghost"/],
    ['/api/nope', 404, /no API route GET \/api\/nope/],
  ])('%s → %i with a JSON error', async (path, status, message) => {
    insert('n1', [sample(0, NOW - 1000, 5)]);
    const res = await app.request(path);
    expect(res.status).toBe(status);
    expect((await res.json()).error).toMatch(message);
  });
});

describe('GET /api/nodes', () => {
  it('lists every node with status, last seen and latest values', async () => {
    insert('b-node', [sample(0, NOW - 2000, 10), sample(1, NOW - 1000, 20)]);
    insert('a-node', [sample(0, NOW - 5000, 30)]);
    store.setStatus('b-node', 'offline', NOW);
    const body = await (await app.request('/api/nodes')).json();
    expect(body.nodes.map((n: { name: string }) => n.name)).toEqual(['a-node', 'b-node']);
    expect(body.nodes[1]).toMatchObject({ status: 'offline', last_seen_ms: NOW - 1000, latest: { cpu_pct: 20, disk_pct: 70 } });
    expect(body.nodes[0].status).toBe('unknown');
  });

  it('stores a re-sent sample once', async () => {
    expect(insert('n1', [sample(0, NOW, 1), sample(1, NOW + 1000, 2)])).toEqual({ inserted: 2, duplicates: 0 });
    expect(insert('n1', [sample(1, NOW + 1000, 2), sample(2, NOW + 2000, 3)])).toEqual({ inserted: 1, duplicates: 1 });
  });
});

describe('pages', () => {
  it('serves the fleet page, the node page and health', async () => {
    expect((await app.request('/healthz')).status).toBe(200);
    const fleet = await app.request('/');
    expect(fleet.status).toBe(200);
    expect(await fleet.text()).toMatch(/fleet-page\.js/);
    const node = await app.request('/nodes/n1');
    expect(await node.text()).toMatch(/node-page\.js/);
  });
});
