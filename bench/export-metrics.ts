// Export and /metrics on a real hub app (SQLite in a temp dir, real HTTP): export rows per second
// for CSV and JSON, and the time to render /metrics for a large fleet.
//   node scripts/run-ts.mjs bench/export-metrics.ts [--rows 200000] [--nodes 1000]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { encodeSample, type Sample } from '../protocol/index.ts';
import { LiveFeed } from '../hub/live-feed.ts';
import { openSqliteStore } from '../hub/storage/sqlite/sqlite-store.ts';
import { createApp } from '../web/app.ts';
import { listen } from '../web/server.ts';
import { realisticPi4Sample } from '../test/fixtures/realistic-sample.ts';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '200000' }, nodes: { type: 'string', default: '1000' } } });
const rows = Number(values.rows);
const nodes = Number(values.nodes);
const dir = mkdtempSync(join(tmpdir(), 'remonitor-bench-export-'));
const store = openSqliteStore(join(dir, 'remonitor.db'));
try {
  const t0 = Date.now() - rows * 1000 - 60_000;
  const sample = (node: string, seq: number, ts: number): { node: string; sample: Sample; raw: Uint8Array } => {
    const s = { ...realisticPi4Sample(), seq, ts_ms: ts, cpu_pct: (seq % 1000) / 10 };
    return { node, sample: s, raw: encodeSample(s) };
  };
  for (let i = 0; i < rows; i += 5000) {
    store.insertBatch(Array.from({ length: Math.min(5000, rows - i) }, (_, k) => sample('bench', i + k + 1, t0 + (i + k) * 1000)));
  }
  for (let n = 0; n < nodes; n++) store.insertBatch([sample(`node-${String(n).padStart(4, '0')}`, 1, Date.now() - 1000)]);
  const web = await listen(createApp({ store, feed: new LiveFeed() }), 0);
  const base = `http://127.0.0.1:${web.port}`;
  console.log('| what | figure |\n|---|---|');
  for (const format of ['csv', 'json']) {
    const start = performance.now();
    const res = await fetch(`${base}/api/nodes/bench/export?format=${format}&from=${t0}&to=now`);
    const bytes = (await res.arrayBuffer()).byteLength;
    const s = (performance.now() - start) / 1000;
    console.log(
      `| export ${format}, ${rows} rows × 16 metrics | ${Math.round(rows / s).toLocaleString('en')} rows/s, ${(bytes / 1e6 / s).toFixed(1)} MB/s (${(bytes / 1e6).toFixed(1)} MB) |`,
    );
  }
  const times: number[] = [];
  let size = 0;
  for (let i = 0; i < 10; i++) {
    const start = performance.now();
    size = (await (await fetch(`${base}/metrics`)).text()).length;
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  console.log(`| GET /metrics, ${nodes + 1} nodes | median ${times[5]!.toFixed(1)} ms, ${(size / 1e3).toFixed(0)} kB |`);
  await web.close();
} finally {
  store.close();
  rmSync(dir, { recursive: true, force: true });
}
