// GET /api/nodes?fields=fleet&shape=columns, the fleet page's list, answered by the app in this
// process (no browser, no socket) over a SQLite store of 1,000 and 10,000 nodes: its time when
// every node has sent a new sample since the last list (the usual case at 1,000 samples/s), when
// none has, and the full GET /api/nodes beside it (the reference: the same rows, every field);
// with the event loop's longest stall while a list is answered. Median of 5 after one cold list.
// Run: node scripts/run-ts.mjs bench/fleet-listing.ts [--nodes 1000,10000]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SimulatedNode } from '../edge-agent/simulated-node.ts';
import { LiveFeed } from '../hub/live-feed.ts';
import { openSqliteStore } from '../hub/storage/sqlite/sqlite-store.ts';
import { encodeInfo, encodeSample } from '../protocol/index.ts';
import { createApp } from '../web/app.ts';

const { values } = parseArgs({ options: { nodes: { type: 'string', default: '1000,10000' } } });
const sizes = values.nodes.split(',').map(Number);
if (sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 100_000))
  throw new Error(`--nodes: a comma-separated list of integers from 1 to 100000, not ${values.nodes}`);
const ROUNDS = 5;
const FLEET_URL = '/api/nodes?fields=fleet&shape=columns';

for (const nodes of sizes) await run(nodes);

async function run(nodes: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'remonitor-bench-fleet-list-'));
  const store = openSqliteStore(join(dir, 'fleet.db'));
  try {
    const fleet = Array.from({ length: nodes }, (_, i) => new SimulatedNode(`node-${String(i).padStart(5, '0')}`, i + 1));
    let ts = Date.now() - 3_600_000;
    const sendAll = () => {
      ts += 1000;
      for (let i = 0; i < fleet.length; i += 1000)
        store.insertBatch(
          fleet.slice(i, i + 1000).map((n) => {
            const sample = n.next(ts);
            return { node: n.name, sample, raw: encodeSample(sample) };
          }),
        );
    };
    sendAll();
    for (const n of fleet) {
      store.setStatus(n.name, 'online', ts);
      store.setInfo(n.name, encodeInfo(n.info(1000)));
    }
    const app = createApp({ store, feed: new LiveFeed() });
    const timed = async (url: string): Promise<{ ms: number; stallMs: number }> => {
      // The longest gap between timer turns while the request runs: how long it holds the loop.
      let last = performance.now();
      let stallMs = 0;
      const probe = setInterval(() => {
        const t = performance.now();
        stallMs = Math.max(stallMs, t - last);
        last = t;
      }, 1);
      const t0 = performance.now();
      const res = await app.request(url);
      await res.arrayBuffer();
      const ms = performance.now() - t0;
      clearInterval(probe);
      stallMs = Math.max(stallMs, performance.now() - last);
      if (res.status !== 200) throw new Error(`${url}: ${res.status}`);
      return { ms, stallMs };
    };
    const cold = await timed(FLEET_URL);
    const changed: { ms: number; stallMs: number }[] = [];
    const unchanged: { ms: number; stallMs: number }[] = [];
    const full: { ms: number; stallMs: number }[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      sendAll();
      changed.push(await timed(FLEET_URL));
      unchanged.push(await timed(FLEET_URL));
      sendAll();
      full.push(await timed('/api/nodes'));
    }
    const median = (xs: { ms: number; stallMs: number }[]) => {
      const ms = xs.map((x) => x.ms).sort((a, b) => a - b)[xs.length >> 1]!;
      const stall = xs.map((x) => x.stallMs).sort((a, b) => a - b)[xs.length >> 1]!;
      return `${ms.toFixed(0).padStart(5)} ms (longest stall ${stall.toFixed(0)} ms)`;
    };
    const fmt = (x: { ms: number; stallMs: number }) => median([x]);
    console.log(`GET ${FLEET_URL}, ${nodes.toLocaleString()} nodes (load ${(await import('node:os')).loadavg()[0]!.toFixed(1)})`);
    console.log(`  first list, cold          ${fmt(cold)}`);
    console.log(`  every node changed        ${median(changed)}`);
    console.log(`  none changed              ${median(unchanged)}`);
    console.log(`  full /api/nodes, changed  ${median(full)}  (the reference)`);
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
