// GET /api/nodes?fields=fleet&shape=columns over a real SQLite store: turned back into objects by
// fromFleetColumns (what the fleet page does), it is exactly the ?fields=fleet list, for nodes with
// and without a sample, a birth record, tags, containers and a word on their clock; and smaller.
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LiveFeed } from '../../hub/live-feed.ts';
import { openSqliteStore, type SqliteStore } from '../../hub/storage/sqlite/sqlite-store.ts';
import { encodeInfo, encodeSample, type NodeInfo, type Sample } from '../../protocol/index.ts';
import type { FleetNodesResponse } from '../../shared/api-types.ts';
import { fromFleetColumns, type FleetColumns } from '../../shared/fleet-columns.ts';
import { createApp } from '../../web/app.ts';
import { runCleanups, tempDir } from '../helpers/parts.ts';

const NOW = 1_800_000_000_000;
const DAY_MS = 24 * 3_600_000;
let store: SqliteStore;
let app: ReturnType<typeof createApp>;

const info = (hostname: string, extra: Partial<NodeInfo> = {}): NodeInfo => ({
  v: 1,
  agent_version: '1.2.3',
  hostname,
  os: 'Debian GNU/Linux 12',
  kernel: '6.1.0',
  arch: 'arm64',
  cpu_model: 'Cortex-A72',
  cpu_cores: 4,
  mem_total_bytes: 4e9,
  disks: [],
  boot_time_ms: NOW - DAY_MS,
  interval_ms: 5000,
  ...extra,
});

function insert(node: string, sample: Sample): void {
  store.insertBatch([{ node, sample, raw: encodeSample(sample) }]);
}

beforeEach(() => {
  store = openSqliteStore(join(tempDir(), 'fleet-columns.db'));
  app = createApp({ store, feed: new LiveFeed(), now: () => NOW });
  // Every field there is, and a container that stopped.
  insert('full', {
    v: 1,
    boot: 'b1',
    seq: 1,
    ts_ms: NOW - 1000,
    cpu_pct: 12.5,
    mem_pct: 40,
    temp_c: 51.2,
    load_1: 0.7,
    filesystems: [{ mount: '/', size_bytes: 100, used_bytes: 70, used_pct: 70 }],
    series: [
      { name: 'container_running', labels: { container: 'web' }, value: 1 },
      { name: 'container_cpu_pct', labels: { container: 'web' }, value: 3.5 },
      { name: 'container_running', labels: { container: 'old' }, value: 0 },
      { name: 'clock_synchronized', labels: {}, value: 0 },
    ],
  });
  store.setStatus('full', 'online', NOW - 1000);
  store.setInfo('full', encodeInfo(info('full-host', { ip_addresses: ['10.0.0.7', 'fe80::1'], tags: ['ci', 'room:lab'] })));
  store.setHubTags('full', ['site-b']);
  // A sample with no temperature and no series, no birth record; silent for two days: stale.
  insert('bare', { v: 1, boot: 'b1', seq: 1, ts_ms: NOW - 2 * DAY_MS, cpu_pct: 0, mem_pct: 1 });
  store.setStatus('bare', 'online', NOW - 2 * DAY_MS);
  // A birth record and a status, no sample yet.
  store.setStatus('newborn', 'offline', NOW - 5000);
  store.setInfo('newborn', encodeInfo(info('newborn-host')));
});
afterEach(async () => {
  store.close();
  await runCleanups();
});

describe('GET /api/nodes?fields=fleet&shape=columns', () => {
  it('is the fleet list field by field, in fewer bytes', async () => {
    const rowsRes = await app.request('/api/nodes?fields=fleet');
    const rowsText = await rowsRes.text();
    const rows = JSON.parse(rowsText) as FleetNodesResponse;
    const colsRes = await app.request('/api/nodes?fields=fleet&shape=columns');
    expect(colsRes.status).toBe(200);
    const colsText = await colsRes.text();
    const cols = JSON.parse(colsText) as FleetColumns;
    expect(rows.nodes.map((n) => n.name).sort()).toEqual(['bare', 'full', 'newborn']);
    // The cases are there to compare, not only absent everywhere.
    expect(rows.nodes.find((n) => n.name === 'full')).toMatchObject({
      clock_synchronized: false,
      containers: { running: 1, top: [{ name: 'web', cpu_pct: 3.5 }] },
      tags: ['ci', 'room:lab', 'site-b'],
      info: { ip_addresses: ['10.0.0.7', 'fe80::1'] },
    });
    expect(rows.nodes.find((n) => n.name === 'newborn')).toMatchObject({ latest: null, status: 'offline' });
    expect(rows.stale).toBe(1);

    expect(fromFleetColumns(cols)).toEqual(rows.nodes);
    expect(cols.stale).toBe(rows.stale);
    expect(colsText.length).toBeLessThan(rowsText.length);
  });

  it('refuses a shape it does not know, and columns of the full summary', async () => {
    for (const query of ['fields=fleet&shape=rows', 'shape=columns', 'fields=fleet&shape=']) {
      const res = await app.request(`/api/nodes?${query}`);
      expect({ query, status: res.status }).toEqual({ query, status: 400 });
      expect((await res.json()).error).toMatch(/^shape: /);
    }
  });
});
