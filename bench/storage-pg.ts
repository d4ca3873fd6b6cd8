// Storage, PostgreSQL beside SQLite: the same simulated fleet (bench/sample-fleet.ts) written
// through each store, oldest first, with rollups derived as they go; then insert rate, bytes per
// value and the 24 h / 7 d chart queries of one node. Then PostgreSQL's raw compaction
// (hub/storage/postgres/pg-chunks.ts): bytes per value and the raw tier's reads (a compacted hour, six
// hours averaged, an export page) before and after, with the longest event-loop stall while it runs.
// Figures only. Starts a throwaway PostgreSQL (test/helpers/postgres.ts) unless --url names one (its
// database must be empty).
// Run: node scripts/run-ts.mjs bench/storage-pg.ts [--nodes 5] [--days 7] [--interval 10s] [--url postgres://…]
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { AnyMetricsStore } from '../hub/storage/async-store.ts';
import { openPgStore, type PgStore } from '../hub/storage/postgres/pg-store.ts';
import { openSqliteStore } from '../hub/storage/sqlite/sqlite-store.ts';
import type { IncomingSample } from '../hub/storage/store.ts';
import { parseDuration } from '../protocol/index.ts';
import { startPostgres } from '../test/helpers/postgres.ts';
import { DEFAULT_SERIES } from '../shared/api-types.ts';
import { DEFAULT_RETENTION } from '../hub/storage/rollups.ts';
import { fleetStep, simulatedFleet } from './sample-fleet.ts';

const { values: args } = parseArgs({
  options: {
    nodes: { type: 'string', default: '5' },
    days: { type: 'string', default: '7' },
    interval: { type: 'string', default: '10s' },
    batch: { type: 'string', default: '2000' },
    url: { type: 'string' },
  },
});
const nodes = Number(args.nodes);
const days = Number(args.days);
const batchSize = Number(args.batch);
const intervalMs = parseDuration(args.interval) ?? NaN;
if (!(nodes > 0 && days > 0 && intervalMs > 0 && batchSize > 0)) throw new TypeError('--nodes, --days, --interval and --batch must be positive');

const DAY = 86_400_000;
const end = Date.now() - (Date.now() % 60_000);
const start = end - days * DAY;
const steps = Math.floor((end - start) / intervalMs);

interface Run {
  samples: number;
  values: number;
  insertS: number;
  deriveS: number;
}

/** Writes the fleet through `store` (its clock is `clock.now`), timing only the store's calls. */
async function seed(store: AnyMetricsStore, clock: { now: number }): Promise<Run> {
  const fleet = simulatedFleet(nodes, start); // same seeds, so the same samples for every backend
  const run: Run = { samples: 0, values: 0, insertS: 0, deriveS: 0 };
  let batch: IncomingSample[] = [];
  let nextDerive = start + 3_600_000;
  const flush = async () => {
    const t = performance.now();
    await store.insertBatch(batch);
    run.insertS += (performance.now() - t) / 1000;
    run.samples += batch.length;
    batch = [];
  };
  const derive = async () => {
    const t = performance.now();
    await store.deriveRollups(async () => undefined);
    run.deriveS += (performance.now() - t) / 1000;
  };
  for (let step = 0; step < steps; step++) {
    const ts = start + step * intervalMs;
    clock.now = ts;
    const { items, values } = fleetStep(fleet, ts);
    run.values += values;
    batch.push(...items);
    if (batch.length >= batchSize) await flush();
    // Live, the hub derives every minute; every simulated hour keeps the bench short and lets
    // batches fill up to --batch (a flush comes before each derive).
    if (ts >= nextDerive) {
      await flush();
      await derive();
      nextDerive += 3_600_000;
    }
  }
  await flush();
  clock.now = end;
  await derive();
  return run;
}

async function p50(fn: () => unknown, runs = 21): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}

async function queries(store: AnyMetricsStore): Promise<{ day: number; week: number; dayPoints: number; weekResolution: string }> {
  const query = (rangeMs: number) => () =>
    store.querySeries({ node: 'sim-0000', metrics: [...DEFAULT_SERIES], fromMs: end - rangeMs, toMs: end, maxPoints: 1000 });
  const day = (await query(DAY)())!;
  const week = (await query(7 * DAY)())!;
  return { day: await p50(query(DAY)), week: await p50(query(7 * DAY)), dayPoints: day.data[0].length, weekResolution: week.resolution };
}

/** p50s of the raw tier's reads of one node: in hours that compaction moves, and in the live ones it leaves. */
async function rawReads(store: PgStore): Promise<{ firstHour: number; hour: number; sixHours: number; page: number; live: number }> {
  const at = end - Math.min(3, days) * DAY;
  const series = (fromMs: number, toMs: number) => () => store.querySeries({ node: 'sim-0000', metrics: [...DEFAULT_SERIES], fromMs, toMs, maxPoints: 1000 });
  const page = () => store.samplePage({ node: 'sim-0000', metrics: [...DEFAULT_SERIES], fromMs: at, toMs: end, after: null, limit: 1000 });
  // The first read of an hour decodes its chunk; the next ones find it decoded (the store keeps a few).
  const t = performance.now();
  await series(at - 3_600_000, at)();
  const firstHour = performance.now() - t;
  return {
    firstHour,
    hour: await p50(series(at, at + 3_600_000)),
    sixHours: await p50(series(at, at + 6 * 3_600_000)),
    page: await p50(page),
    live: await p50(series(end - 3_600_000, end)),
  };
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const rate = (n: number, s: number) => Math.round(n / s).toLocaleString();

// SQLite
const dir = mkdtempSync(join(tmpdir(), 'remonitor-bench-storage-pg-'));
const sqliteClock = { now: start };
const sqlite = openSqliteStore(join(dir, 'bench.db'), { now: () => sqliteClock.now });
const sqliteRun = await seed(sqlite, sqliteClock);
sqlite.db.pragma('wal_checkpoint(TRUNCATE)');
const sqliteFile = statSync(join(dir, 'bench.db')).size;
// dbstat gives the pages of one table and its indexes, when SQLite was built with it.
let sqliteSamples: number | null = null;
try {
  sqliteSamples = (sqlite.db.prepare("SELECT sum(pgsize) AS b FROM dbstat WHERE name = 'samples'").get() as { b: number }).b;
} catch {
  sqliteSamples = null;
}
const sqliteQueries = await queries(sqlite);
sqlite.close();
rmSync(dir, { recursive: true, force: true });

// PostgreSQL
const server = args.url ? null : await startPostgres();
let pgStore: PgStore | null = null;
try {
  const url = args.url ?? (await server!.createDatabase());
  const pgClock = { now: start };
  // Raw rows kept for the whole run: all of them past their first hours are compacted below.
  pgStore = await openPgStore(url, { now: () => pgClock.now, retention: { ...DEFAULT_RETENTION, raw: (days + 1) * DAY } });
  const pgRun = await seed(pgStore, pgClock);
  await pgStore.pool.query('VACUUM ANALYZE'); // visibility map and statistics, as autovacuum would leave them
  const size = async (sql: string) => Number((await pgStore!.pool.query<{ b: number }>(sql)).rows[0]!.b ?? 0);
  const pgSamples = await size(`SELECT sum(pg_total_relation_size(i.inhrelid)) AS b FROM pg_inherits i WHERE i.inhparent = 'samples'::regclass`);
  const pgAll = pgSamples + (await size(`SELECT pg_total_relation_size('rollups') + pg_total_relation_size('nodes') + pg_total_relation_size('boots') AS b`));
  const pgQueries = await queries(pgStore);

  const v = sqliteRun.values;
  console.log(
    `storage, SQLite vs PostgreSQL: ${nodes} nodes × ${days} d at ${args.interval} = ${sqliteRun.samples.toLocaleString()} samples, ${v.toLocaleString()} values, batches of ${batchSize}`,
  );
  if (pgRun.values !== v || pgRun.samples !== sqliteRun.samples) console.log(`  (!) PostgreSQL got ${pgRun.samples} samples / ${pgRun.values} values`);
  const row = (label: string, sq: string, pgv: string) => console.log(`  ${label.padEnd(26)}${sq.padEnd(34)}${pgv}`);
  row('', 'SQLite', 'PostgreSQL');
  row('insert, samples/s', rate(sqliteRun.samples, sqliteRun.insertS), rate(pgRun.samples, pgRun.insertS));
  row('insert, values/s', rate(v, sqliteRun.insertS), rate(v, pgRun.insertS));
  row('rollups derived, s in all', sqliteRun.deriveS.toFixed(1), pgRun.deriveS.toFixed(1));
  row(
    'samples table, B/value',
    sqliteSamples === null ? 'n/a (no dbstat)' : `${(sqliteSamples / v).toFixed(2)} (${mib(sqliteSamples)})`,
    `${(pgSamples / v).toFixed(2)} (${mib(pgSamples)})`,
  );
  row('everything, B/value', `${(sqliteFile / v).toFixed(2)} (${mib(sqliteFile)}, the file)`, `${(pgAll / v).toFixed(2)} (${mib(pgAll)}, + rollups, nodes)`);
  row(
    '24 h chart, p50',
    `${sqliteQueries.day.toFixed(2)} ms (${sqliteQueries.dayPoints} points)`,
    `${pgQueries.day.toFixed(2)} ms (${pgQueries.dayPoints} points)`,
  );
  row(
    '7 d chart, p50',
    `${sqliteQueries.week.toFixed(2)} ms (${sqliteQueries.weekResolution})`,
    `${pgQueries.week.toFixed(2)} ms (${pgQueries.weekResolution})`,
  );

  // Raw compaction: the same reads and sizes before and after.
  const rawBytes = () =>
    size(
      `SELECT sum(pg_total_relation_size(i.inhrelid)) + pg_total_relation_size('sample_chunks') AS b FROM pg_inherits i WHERE i.inhparent = 'samples'::regclass`,
    );
  const before = { bytes: await rawBytes(), reads: await rawReads(pgStore) };
  // The reference: the event loop's delays while idle, on this machine under its load at the moment.
  const idle = monitorEventLoopDelay({ resolution: 5 });
  idle.enable();
  await new Promise((resolve) => setTimeout(resolve, 5000));
  idle.disable();
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  let t = performance.now();
  const moved = await pgStore.compactRaw(() => yieldToLoop().then(() => undefined), Infinity);
  const compactS = (performance.now() - t) / 1000;
  delay.disable();
  await pgStore.pool.query('VACUUM ANALYZE');
  const after = { bytes: await rawBytes(), reads: await rawReads(pgStore) };
  const chunks = await size('SELECT count(*) AS b FROM sample_chunks');
  const chunkBytes = await size("SELECT pg_total_relation_size('sample_chunks') AS b");
  console.log(
    `PostgreSQL raw compaction: ${moved.toLocaleString()} samples into ${chunks.toLocaleString()} chunks in ${compactS.toFixed(1)} s (${rate(moved, compactS)} samples/s), event loop delay max ${(delay.max / 1e6).toFixed(1)} ms, p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms (idle for 5 s just before: max ${(idle.max / 1e6).toFixed(1)} ms, p99 ${(idle.percentile(99) / 1e6).toFixed(1)} ms)`,
  );
  // Values of the compacted samples alone (the run's values are per sample the same on average).
  const movedValues = (v * moved) / pgRun.samples;
  console.log(
    `  sample_chunks: ${mib(chunkBytes)}, ${(chunkBytes / movedValues).toFixed(2)} B per compacted value; the rest is the live day's partition (its deleted rows' pages stay until the day is dropped or emptied)`,
  );
  row('', 'rows only', 'compacted (after ratio)');
  row(
    'raw samples, B/value',
    `${(before.bytes / v).toFixed(2)} (${mib(before.bytes)})`,
    `${(after.bytes / v).toFixed(2)} (${mib(after.bytes)}) ×${(after.bytes / before.bytes).toFixed(3)}`,
  );
  for (const [label, key] of [
    ['hour, first read', 'firstHour'],
    ['hour 3 d ago', 'hour'],
    ['6 h averaged 3 d ago', 'sixHours'],
    ['export page of 1000', 'page'],
    ['last hour (rows)', 'live'],
  ] as const) {
    row(`${label}, p50`, `${before.reads[key].toFixed(2)} ms`, `${after.reads[key].toFixed(2)} ms ×${(after.reads[key] / before.reads[key]).toFixed(2)}`);
  }
} finally {
  await pgStore?.close();
  await server?.stop();
}
