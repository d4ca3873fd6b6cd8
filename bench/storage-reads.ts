// Storage reads at fleet size: how long a node page's 7-day charts (DEFAULT_SERIES, and per core)
// take from a compacted SQLite store of `--nodes` nodes, on first read of a node (its chunks not
// decoded yet, as when a person opens a node page) and read again, beside the same reads at the
// `--seeded` nodes it starts from.
// Seeding a week of a thousand nodes through the store would take hours here, so `--seeded` nodes
// are written through it (oldest first, rollups derived as live, then compacted by the store's own
// purge run), and the rest are copies of them made in SQL: their nodes, raw rows and chunks, rollup
// rows and chunks, labelled series, buckets and chunks under new ids, interleaved by time as live
// compaction writes them, so that every read seeks the same tables and indexes a real fleet fills.
// Copies hold the same bytes as their originals: a cold read decodes what the original's would.
// Run: node scripts/run-ts.mjs bench/storage-reads.ts [--nodes 1000] [--seeded 10] [--hours 168] [--interval 1m] [--cold 40]
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseDuration } from '../protocol/index.ts';
import { fleetStep, simulatedFleet } from './sample-fleet.ts';
import { openSqliteStore, type SqliteStore } from '../hub/storage/sqlite/sqlite-store.ts';
import { DEFAULT_RETENTION } from '../hub/storage/rollups.ts';
import type { IncomingSample } from '../hub/storage/store.ts';
import { DEFAULT_SERIES } from '../shared/api-types.ts';

const { values: args } = parseArgs({
  options: {
    nodes: { type: 'string', default: '1000' },
    seeded: { type: 'string', default: '10' },
    hours: { type: 'string', default: '168' },
    interval: { type: 'string', default: '1m' },
    cold: { type: 'string', default: '40' },
  },
});
const nodes = Number(args.nodes);
const seeded = Number(args.seeded);
const hours = Number(args.hours);
const coldReads = Number(args.cold);
const intervalMs = parseDuration(args.interval) ?? NaN;
if (!(seeded > 0 && nodes >= seeded && nodes % seeded === 0)) throw new TypeError('--nodes must be a multiple of --seeded');
if (!(hours > 0 && intervalMs > 0 && coldReads > 0)) throw new TypeError('--hours, --interval and --cold must be positive');

const HOUR = 3_600_000;
const dir = mkdtempSync(join(tmpdir(), 'remonitor-bench-reads-'));
const dbPath = join(dir, 'bench.db');
const end = Math.floor(Date.now() / HOUR) * HOUR;
const start = end - hours * HOUR;
let simNow = start;
// Raw samples kept 14 days, as in bench/storage.ts: the week stays raw, in chunks.
const retention = { ...DEFAULT_RETENTION, raw: 14 * 86_400_000 };
const open = () => openSqliteStore(dbPath, { now: () => simNow, retention });
let store: SqliteStore = open();

// Seeding, as bench/storage.ts does it: every node's sample each interval, rollups every 10 simulated minutes.
const t0 = performance.now();
const fleet = simulatedFleet(seeded, start);
let batch: IncomingSample[] = [];
let nextDerive = start + 600_000;
for (let ts = start; ts < end; ts += intervalMs) {
  simNow = ts;
  batch.push(...fleetStep(fleet, ts).items);
  if (batch.length >= 2000) {
    store.insertBatch(batch);
    batch = [];
  }
  if (ts >= nextDerive) {
    store.insertBatch(batch);
    batch = [];
    await store.deriveRollups(async () => undefined);
    nextDerive = ts + 600_000;
  }
}
store.insertBatch(batch);
simNow = end;
await store.deriveRollups(async () => undefined);
const seedS = (performance.now() - t0) / 1000;

// Compaction by the store's purge run (on the hub, the writer's thread runs the same), run after
// run until no rows are left to move: each run stops after its budget.
const t1 = performance.now();
const rowsLeft = () =>
  (
    store.db.prepare('SELECT (SELECT count(*) FROM samples) + (SELECT count(*) FROM rollups) + (SELECT count(*) FROM labelled_rollups) AS n').get() as {
      n: number;
    }
  ).n;
for (let left = rowsLeft(), last = Infinity, runs = 0; left < last && runs < 10; last = left, left = rowsLeft(), runs++) {
  await store.purgeExpired(async () => undefined);
}
const compactS = (performance.now() - t1) / 1000;

const name = (i: number) => `sim-${String(i).padStart(4, '0')}`;
const from = end - Math.min(hours, 168) * HOUR;
const chart = (node: string) => store.querySeries({ node, metrics: [...DEFAULT_SERIES], fromMs: from, toMs: end, maxPoints: 1000 });
const perCore = (node: string) => store.queryLabelled(node, 'cpu_core_pct', from, end, 1000);
/**
 * A read's wall time and the process's CPU time (ms): on a shared machine the CPU time is the
 * steadier figure. And the blocks it read from the disk, not the OS's cache (getrusage's inblock):
 * a first read that waits for the disk has its wall time well above its CPU time.
 */
interface Took {
  wall: number;
  cpu: number;
  blocks: number;
}
const timed = (fn: () => unknown): Took => {
  const blocks = process.resourceUsage().fsRead;
  const cpu = process.cpuUsage();
  const t = performance.now();
  fn();
  const wall = performance.now() - t;
  const used = process.cpuUsage(cpu);
  return { wall, cpu: (used.user + used.system) / 1000, blocks: process.resourceUsage().fsRead - blocks };
};
const p50 = (times: readonly Took[]): Took => {
  const at = (k: keyof Took) => times.map((t) => t[k]).sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
  return { wall: at('wall'), cpu: at('cpu'), blocks: at('blocks') };
};
const max = (times: readonly Took[]): Took => ({
  wall: Math.max(...times.map((t) => t.wall)),
  cpu: Math.max(...times.map((t) => t.cpu)),
  blocks: Math.max(...times.map((t) => t.blocks)),
});
/** Blocks read from the disk by all the reads. */
const blocksOf = (times: readonly Took[]) => times.reduce((sum, t) => sum + t.blocks, 0);

interface Reads {
  firstSeries: Took;
  firstLabelled: Took;
  coldSeries: Took[];
  coldLabelled: Took[];
  warmSeries: Took;
  warmLabelled: Took;
}

/**
 * On a store opened anew (its page cache and decoded chunks empty, the file in the OS's cache): the
 * first read of all (at the seeded nodes, code not yet optimised), then one read each of `count`
 * other nodes spread over the fleet, never read before, then one node read again and again.
 */
function reads(fleetSize: number, count: number): Reads {
  store.close();
  store = open();
  const picks = Array.from({ length: Math.min(count, fleetSize - 1) }, (_, i) => 1 + Math.floor((i * (fleetSize - 1)) / Math.min(count, fleetSize - 1)));
  const firstSeries = timed(() => chart(name(0)));
  const firstLabelled = timed(() => perCore(name(0)));
  // The code warmed up as on a hub that has drawn charts before: node 0 read through other
  // connections (their decoded chunks their own), so that the reads below find nothing kept.
  for (let i = 0; i < 5; i++) {
    const other = open();
    other.querySeries({ node: name(0), metrics: [...DEFAULT_SERIES], fromMs: from, toMs: end, maxPoints: 1000 });
    other.queryLabelled(name(0), 'cpu_core_pct', from, end, 1000);
    other.close();
  }
  const coldSeries: Took[] = [];
  const coldLabelled: Took[] = [];
  for (const i of picks) {
    coldSeries.push(timed(() => chart(name(i))));
    coldLabelled.push(timed(() => perCore(name(i))));
  }
  const again = (fn: () => unknown) => p50(Array.from({ length: 21 }, () => timed(fn)));
  return {
    firstSeries,
    firstLabelled,
    coldSeries,
    coldLabelled,
    warmSeries: again(() => chart(name(0))),
    warmLabelled: again(() => perCore(name(0))),
  };
}

const atSeeded = reads(seeded, Math.min(coldReads, seeded - 1));

// The copies: node ids and labelled series ids shifted by a whole number of the seeded ones.
const t2 = performance.now();
const db = store.db;
const ids = db.prepare('SELECT min(id) AS lo, max(id) AS hi, count(*) AS n FROM nodes').get() as { lo: number; hi: number; n: number };
if (ids.lo !== 1 || ids.hi !== seeded || ids.n !== seeded) throw new Error(`seeded nodes have ids ${ids.lo}…${ids.hi}, not 1…${seeded}`);
const seriesIds = db.prepare('SELECT coalesce(max(id), 0) AS hi FROM labelled_series').get() as { hi: number };
const copies = nodes / seeded - 1;
const columnsOf = (table: string) => (db.prepare(`SELECT name FROM pragma_table_info('${table}')`).all() as { name: string }[]).map((c) => c.name);
/** `INSERT … SELECT` of every copy of `table`, each column of `shifts` moved by (copy × its shift), in `order`. */
const copyTable = (table: string, shifts: Record<string, number>, order: string) => {
  const columns = columnsOf(table);
  const picked = columns.map((c) => (shifts[c] === undefined ? c : `${c} + k.i * ${shifts[c]}`));
  db.prepare(
    `WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ${copies})
     INSERT INTO ${table} (${columns.join(', ')}) SELECT ${picked.join(', ')} FROM ${table}, k ORDER BY ${order}`,
  ).run();
};
db.transaction(() => {
  const nodeColumns = columnsOf('nodes').filter((c) => c !== 'id' && c !== 'name');
  db.prepare(
    `WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ${copies})
     INSERT INTO nodes (id, name, ${nodeColumns.join(', ')})
     SELECT id + k.i * ${seeded}, printf('sim-%04d', id - 1 + k.i * ${seeded}), ${nodeColumns.join(', ')} FROM nodes, k ORDER BY k.i, id`,
  ).run();
  // As live compaction leaves them: each hour's (window's) chunks of every node side by side.
  const node = { node_id: seeded };
  const series = { series_id: seriesIds.hi };
  copyTable('sample_chunks', node, 'start_ms, k.i, node_id');
  copyTable('samples', node, 'ts_ms, k.i, node_id');
  copyTable('rollup_chunks', node, 'start_ms, tier, k.i, node_id');
  copyTable('rollups', node, 'bucket_ms, tier, k.i, node_id');
  copyTable('labelled_series', { id: seriesIds.hi, node_id: seeded }, 'k.i, id');
  copyTable('labelled_chunks', series, 'start_ms, k.i, series_id');
  copyTable('labelled_rollups', series, 'bucket_ms, k.i, series_id');
})();
db.pragma('wal_checkpoint(TRUNCATE)');
const copyS = (performance.now() - t2) / 1000;
const check = db.prepare('SELECT count(DISTINCT node_id) AS n FROM labelled_series').get() as { n: number };
if (check.n !== nodes) throw new Error(`labelled series of ${check.n} nodes after copying, not ${nodes}`);

const atFleet = reads(nodes, coldReads);

const ms = (x: Took) => `${x.wall.toFixed(2)} / ${x.cpu.toFixed(2)} ms`.padStart(20);
console.log(
  `storage reads: ${seeded} nodes × ${hours} h at ${args.interval} seeded through the store (${seedS.toFixed(0)} s) and compacted (${compactS.toFixed(0)} s), copied to ${nodes} nodes in SQL (${copyS.toFixed(0)} s, file ${(statSync(dbPath).size / 2 ** 20).toFixed(0)} MiB)`,
);
console.log('  7-day charts (DEFAULT_SERIES at 1,000 points; cpu_core_pct per core), after compaction, a store opened anew; wall / CPU time');
console.log(`                                       ${`${seeded} nodes`.padStart(20)} ${`${nodes} nodes`.padStart(20)}`);
const line = (label: string, a: Took, b: Took) => console.log(`  ${label.padEnd(36)} ${ms(a)} ${ms(b)}`);
line('first read after opening, chart', atSeeded.firstSeries, atFleet.firstSeries);
line('first read after opening, per core', atSeeded.firstLabelled, atFleet.firstLabelled);
line('first read of a node, chart p50', p50(atSeeded.coldSeries), p50(atFleet.coldSeries));
line('first read of a node, chart max', max(atSeeded.coldSeries), max(atFleet.coldSeries));
line('first read of a node, per core p50', p50(atSeeded.coldLabelled), p50(atFleet.coldLabelled));
line('first read of a node, per core max', max(atSeeded.coldLabelled), max(atFleet.coldLabelled));
line('read again, chart p50', atSeeded.warmSeries, atFleet.warmSeries);
line('read again, per core p50', atSeeded.warmLabelled, atFleet.warmLabelled);
console.log(
  `  (first reads of a node: ${atSeeded.coldSeries.length} nodes of ${seeded}, ${atFleet.coldSeries.length} of ${nodes}; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')})`,
);
// Not in the OS's cache: the file is read from the disk (on a machine whose cache is short of the file, or that others fill).
const disk = (r: Reads) => `${blocksOf(r.coldSeries)} in the charts' and ${blocksOf(r.coldLabelled)} in the per-core reads`;
console.log(`  (blocks read from the disk by the first reads of a node: ${disk(atSeeded)} at ${seeded} nodes, ${disk(atFleet)} at ${nodes})`);
store.close();
rmSync(dir, { recursive: true, force: true });
