// Storage: how fast samples go into SQLite, how many bytes each value takes on disk before and
// after the older raw rows, rollups and labelled series' buckets are compacted into chunks
// (hub/storage/sqlite/chunk-store.ts, hub/storage/sqlite/rollup-chunks.ts, hub/storage/sqlite/labelled-chunks.ts), per part, against the target of
// a byte a value, how fast the API's queries answer over the seeded history before and after, and the
// longest event-loop stall while compacting.
// A simulated fleet is written straight through the store (no broker), oldest first: `--hours` at
// `--interval`, then the last `--hot-hours` of them at 1 Hz. Figures only.
// Run: node scripts/run-ts.mjs bench/storage.ts [--nodes 50] [--hours 168] [--interval 1m] [--hot-hours 3]
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { encodeSample, parseDuration } from '../protocol/index.ts';
import { countValues, simulatedFleet } from './sample-fleet.ts';
import { openSqliteStore } from '../hub/storage/sqlite/sqlite-store.ts';
import { ThreadedSqliteWriter } from '../hub/storage/sqlite/threaded-sample-writer.ts';
import { DEFAULT_RETENTION } from '../hub/storage/rollups.ts';
import { COMPACT_AFTER_MS } from '../hub/storage/sqlite/chunk-store.ts';
import type { IncomingSample, SamplePage, SamplePageQuery } from '../hub/storage/store.ts';
import { DEFAULT_SERIES } from '../shared/api-types.ts';

const { values: args } = parseArgs({
  options: {
    nodes: { type: 'string', default: '50' },
    hours: { type: 'string', default: '168' },
    interval: { type: 'string', default: '1m' },
    'hot-hours': { type: 'string', default: '3' },
  },
});
const nodes = Number(args.nodes);
const hours = Number(args.hours);
const hotHours = Number(args['hot-hours']);
const intervalMs = parseDuration(args.interval) ?? NaN;
if (!(nodes > 0 && hours > 0 && intervalMs > 0)) throw new TypeError('--nodes, --hours and --interval must be positive');
if (!(hotHours >= 0 && hotHours <= hours)) throw new TypeError('--hot-hours must be between 0 and --hours');

const HOUR = 3_600_000;
const dir = mkdtempSync(join(tmpdir(), 'remonitor-bench-storage-'));
const dbPath = join(dir, 'bench.db');
// Whole hours, so that the windows compacted are the same run to run.
const end = Math.floor(Date.now() / HOUR) * HOUR;
const start = end - hours * HOUR;
const hotFrom = end - hotHours * HOUR;
// The store's clock follows the seeding, so that rollups are derived as they would be live.
let simNow = start;
// Raw samples kept 14 days (the default keeps 2), so that the whole week stays raw, in chunks.
const retention = { ...DEFAULT_RETENTION, raw: 14 * 86_400_000 };
const store = openSqliteStore(dbPath, { now: () => simNow, retention });
const fleet = simulatedFleet(nodes, start);
let samples = 0;
let values = 0;
let batch: IncomingSample[] = [];
let deriveMs = 0;
let insertMs = 0;
let nextDerive = start + 600_000;
let derivedAt = 0;
const t0 = performance.now();
let lastReport = t0;
const flush = () => {
  const t = performance.now();
  store.insertBatch(batch);
  insertMs += performance.now() - t;
  samples += batch.length;
  batch = [];
};
for (let ts = start; ts < end; ts += ts >= hotFrom ? 1000 : intervalMs) {
  simNow = ts;
  for (const node of fleet) {
    const sample = node.next(ts);
    values += countValues(sample);
    batch.push({ node: node.name, sample, raw: encodeSample(sample) });
  }
  if (batch.length >= 2000) flush();
  if (ts >= nextDerive && samples + batch.length - derivedAt >= 20_000) {
    // Live, the hub derives every minute; every 10 simulated minutes and 20,000 samples keeps the bench short.
    flush();
    derivedAt = samples;
    const t = performance.now();
    await store.deriveRollups(async () => undefined);
    deriveMs += performance.now() - t;
    nextDerive = ts + 600_000;
  }
  if (performance.now() - lastReport > 5000) {
    lastReport = performance.now();
    process.stderr.write(`  seeding… ${Math.round(((ts - start) / (end - start)) * 100)} %\n`);
  }
}
flush();
simNow = end;
const t1 = performance.now();
await store.deriveRollups(async () => undefined);
deriveMs += performance.now() - t1;
const seedS = (performance.now() - t0) / 1000;

type Part = 'rows' | 'chunks' | 'rollups' | 'rollupChunks' | 'labelled' | 'labelledChunks' | 'other';
const PART_OF: Record<string, Part> = {
  samples: 'rows',
  sample_chunks: 'chunks',
  rollups: 'rollups',
  rollup_chunks: 'rollupChunks',
  labelled_series: 'labelled',
  labelled_rollups: 'labelled',
  labelled_chunks: 'labelledChunks',
};
/** The target the issue sets: the whole database at most this many bytes a stored value. */
const TARGET_BYTES_PER_VALUE = 1.0;

/** Bytes of the file, of its pages in use, and per part (tables with their indexes), from SQLite's dbstat. */
function sizes() {
  store.db.pragma('wal_checkpoint(TRUNCATE)');
  const pageSize = store.db.pragma('page_size', { simple: true }) as number;
  const used = ((store.db.pragma('page_count', { simple: true }) as number) - (store.db.pragma('freelist_count', { simple: true }) as number)) * pageSize;
  const tiers: Record<Part, number> = { rows: 0, chunks: 0, rollups: 0, rollupChunks: 0, labelled: 0, labelledChunks: 0, other: 0 };
  const others = new Map<string, number>();
  const tables = store.db.prepare("SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')").all() as { name: string; tbl_name: string }[];
  const tableOf = new Map(tables.map((t) => [t.name, t.tbl_name]));
  for (const { name, bytes } of store.db.prepare('SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name').all() as { name: string; bytes: number }[]) {
    const table = tableOf.get(name) ?? name;
    const tier = PART_OF[table] ?? 'other';
    tiers[tier] += bytes;
    if (tier === 'other') others.set(table, (others.get(table) ?? 0) + bytes);
  }
  const largestOthers = [...others].sort((a, b) => b[1] - a[1]).slice(0, 3);
  // The chunks' own bytes, against the pages they take (page fill, overflow pages' tails).
  const blobs = store.db
    .prepare(
      'SELECT (SELECT coalesce(sum(length(data)), 0) FROM sample_chunks) AS raw, (SELECT coalesce(sum(length(data)), 0) FROM rollup_chunks) AS rollup, (SELECT coalesce(sum(length(data)), 0) FROM labelled_chunks) AS labelled',
    )
    .get() as { raw: number; rollup: number; labelled: number };
  // The rollup chunks' bytes by tier: the 1 min tier of a node sampled once a minute holds its raw values again.
  const byTier = store.db.prepare('SELECT tier, sum(length(data)) AS bytes FROM rollup_chunks GROUP BY tier ORDER BY tier').all() as {
    tier: number;
    bytes: number;
  }[];
  return { file: statSync(dbPath).size, used, tiers, largestOthers, blobs, byTier };
}

const p50 = (fn: () => unknown, runs = 21) => {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
};
const node0 = fleet[0]!.name;
const chart = (fromMs: number, toMs: number) => () => store.querySeries({ node: node0, metrics: [...DEFAULT_SERIES], fromMs, toMs, maxPoints: 1000 });
const charts: [string, number, number][] = [
  ['1 h chart, now (rows)', end - HOUR, end],
  ...(hotHours >= 3 ? [['1 h chart at 1 Hz, 2–3 h ago', end - 3 * HOUR, end - 2 * HOUR] as [string, number, number]] : []),
  ['1 h chart, a day ago', end - 25 * HOUR, end - 24 * HOUR],
  ['24 h chart', end - 24 * HOUR, end],
  ...(hours >= 168 ? [['7 d chart', end - 168 * HOUR, end] as [string, number, number]] : []),
];
// Labelled series (per core) over ranges past an hour: from the minute buckets.
const labelledCharts: [string, number, number][] = [
  ['24 h chart, per core', end - 24 * HOUR, end],
  ...(hours >= 168 ? [['7 d chart, per core', end - 168 * HOUR, end] as [string, number, number]] : []),
];
function exportAll(): number {
  let rows = 0;
  let after: SamplePageQuery['after'] = null;
  for (let pages = 0; pages < 1_000_000; pages++) {
    const page: SamplePage = store.samplePage({ node: node0, metrics: [...DEFAULT_SERIES], fromMs: start, toMs: end, after, limit: 2000 })!;
    rows += page.rows.length;
    if (!page.next) break;
    after = page.next;
  }
  return rows;
}
function queries(): Map<string, number> {
  const out = new Map<string, number>();
  for (const [label, from, to] of charts) out.set(label, p50(chart(from, to)));
  for (const [label, from, to] of labelledCharts)
    out.set(
      label,
      p50(() => store.queryLabelled(node0, 'cpu_core_pct', from, to, 1000)),
    );
  out.set(`export of node 0, all ${hours} h`, p50(exportAll, 5));
  return out;
}

/**
 * The first read of a node's 7-day charts (its chunks not yet decoded, as on a page's first load):
 * a node per call, so that no read finds another's chunks kept. The p50s above read again and again.
 */
let coldNode = 1;
function coldReads(): { series: number; labelled: number } {
  const node = fleet[coldNode++ % fleet.length]!.name;
  const from = end - Math.min(hours, 168) * HOUR;
  let t = performance.now();
  store.querySeries({ node, metrics: [...DEFAULT_SERIES], fromMs: from, toMs: end, maxPoints: 1000 });
  const series = performance.now() - t;
  t = performance.now();
  store.queryLabelled(node, 'cpu_core_pct', from, end, 1000);
  return { series, labelled: performance.now() - t };
}
const before = sizes();
const coldBefore = coldReads();
const queriesBefore = queries();
const exported = exportAll();

// Compaction as the hub runs it: the purge run on the SQLite writer's thread (built to dist/ by
// `npm run build`), while this thread's event loop is watched (in the hub, it is the broker's).
// The thread's store takes `end` for now, as the seeding's store does: the last COMPACT_AFTER_MS of
// raw rows stay rows, as on a live hub, and count in the figures.
// First the loop idle as long, for the machine's own noise (a shared 2-core machine stalls on its own).
const idle = monitorEventLoopDelay({ resolution: 5 });
idle.enable();
await new Promise((resolve) => setTimeout(resolve, 10_000));
idle.disable();
// The loop is watched during each purge run, a monitor a run: one disabled and enabled again counts
// the time between as one delay (this thread's own counting of rows). The worst run's figures count.
const loop = { max: 0, p99: 0 };
const rowsBefore = (store.db.prepare('SELECT count(*) AS n FROM samples').get() as { n: number }).n;
const writer = new ThreadedSqliteWriter({ path: dbPath, retention, fixedNowMs: end });
const tc = performance.now();
// A purge run compacts for a bounded time and leaves the rest to the next (every 10 min live): a
// first compaction of a week of rows takes a few runs, back to back here.
const rowsLeft = () =>
  (
    store.db.prepare('SELECT (SELECT count(*) FROM samples) + (SELECT count(*) FROM rollups) + (SELECT count(*) FROM labelled_rollups) AS n').get() as {
      n: number;
    }
  ).n;
let purgeRuns = 0;
for (let left = rowsLeft(), last = Infinity; left < last && purgeRuns < 10; last = left, left = rowsLeft()) {
  const run = monitorEventLoopDelay({ resolution: 5 });
  run.enable();
  await writer.purgeExpired();
  run.disable();
  loop.max = Math.max(loop.max, run.max);
  loop.p99 = Math.max(loop.p99, run.percentile(99));
  purgeRuns++;
}
const compactS = (performance.now() - tc) / 1000;
await writer.close();
const moved = rowsBefore - (store.db.prepare('SELECT count(*) AS n FROM samples').get() as { n: number }).n;
const countOf = (table: string) => (store.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
const chunks = countOf('sample_chunks');
const bucketChunks = `${countOf('rollup_chunks').toLocaleString()} rollup and ${countOf('labelled_chunks').toLocaleString()} labelled chunks`;
const after = sizes();
const coldAfter = coldReads();
const queriesAfter = queries();
if (exportAll() !== exported) throw new Error('the export after compaction has other rows than before it');

const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
const perValue = (b: number) => (b / values).toFixed(2);
const perSample = (b: number) => Math.round(b / samples);
console.log(
  `storage: ${nodes} nodes × ${hours} h at ${args.interval}, the last ${hotHours} h at 1 s = ${samples.toLocaleString()} samples, ${values.toLocaleString()} values`,
);
console.log(
  `  insert                 ${Math.round(samples / (insertMs / 1000)).toLocaleString()} samples/s, ${Math.round(values / (insertMs / 1000)).toLocaleString()} values/s (seeding in all ${seedS.toFixed(0)} s)`,
);
console.log(
  `  rollups (1 min, 15 min, 1 h) derived every 10 simulated min and 20,000 samples: ${(deriveMs / 1000).toFixed(1)} s in all, ${((deriveMs / insertMs) * 100).toFixed(0)} % of the insert time`,
);
console.log(
  `  compaction             ${moved.toLocaleString()} rows into ${chunks.toLocaleString()} chunks, and ${bucketChunks}, in ${compactS.toFixed(1)} s (${purgeRuns} purge runs) (${Math.round(moved / compactS).toLocaleString()} rows/s), on the writer's thread; the event loop's longest stall meanwhile ${(loop.max / 1e6).toFixed(0)} ms, p99 ${(loop.p99 / 1e6).toFixed(0)} ms (idle for 10 s: ${(idle.max / 1e6).toFixed(0)} ms, p99 ${(idle.percentile(99) / 1e6).toFixed(0)} ms)`,
);
console.log('                         bytes per value (bytes per sample)');
console.log('                         before compaction        after');
for (const [label, b, a] of [
  ['whole file', before.file, after.file],
  ['pages in use', before.used, after.used],
  ['  raw rows', before.tiers.rows, after.tiers.rows],
  ['  raw chunks', before.tiers.chunks, after.tiers.chunks],
  ['  rollup rows', before.tiers.rollups, after.tiers.rollups],
  ['  rollup chunks', before.tiers.rollupChunks, after.tiers.rollupChunks],
  ['  labelled rows', before.tiers.labelled, after.tiers.labelled],
  ['  labelled chunks', before.tiers.labelledChunks, after.tiers.labelledChunks],
  ['  other', before.tiers.other, after.tiers.other],
] as const) {
  const cell = (x: number) => `${perValue(x)} (${perSample(x)})`.padEnd(14) + mib(x).padStart(10);
  console.log(`  ${label.padEnd(22)} ${cell(b)}   ${cell(a)}`);
}
const ratio = (b: number) => `${(b / values / TARGET_BYTES_PER_VALUE).toFixed(2)}x`;
console.log(
  `  pages in use against the target of ${TARGET_BYTES_PER_VALUE.toFixed(1)} B a value: ${ratio(before.used)} before compaction, ${ratio(after.used)} after; without the raw rows kept for live reads (the last ${COMPACT_AFTER_MS / 60_000} min): ${ratio(after.used - after.tiers.rows)}`,
);
console.log(
  `  chunks' bytes alone     raw ${perValue(after.blobs.raw)}, rollup ${perValue(after.blobs.rollup)} (${after.byTier.map((t) => `${t.tier >= 3600 ? `${t.tier / 3600} h` : `${t.tier / 60} min`} ${perValue(t.bytes)}`).join(', ')}), labelled ${perValue(after.blobs.labelled)} (the rest of their pages: SQLite's rows, page fill)`,
);
console.log(`  largest of the others   ${after.largestOthers.map(([name, bytes]) => `${name} ${perValue(bytes)} (${perSample(bytes)})`).join(', ')}`);
console.log('                         p50 before   p50 after');
for (const [label, ms] of queriesBefore)
  console.log(`  ${label.padEnd(34)} ${ms.toFixed(2).padStart(7)} ms ${queriesAfter.get(label)!.toFixed(2).padStart(8)} ms`);
console.log(
  `  first read of another node's ${Math.min(hours, 168)} h chart: ${coldBefore.series.toFixed(2)} ms before, ${coldAfter.series.toFixed(2)} ms after; per core ${coldBefore.labelled.toFixed(2)} ms before, ${coldAfter.labelled.toFixed(2)} ms after`,
);
console.log(`  fleet overview         ${p50(() => store.listNodes()).toFixed(2)} ms p50 (${nodes} nodes)`);
store.close();
rmSync(dir, { recursive: true, force: true });
