// The PostgreSQL schema of the metrics store, created at open: idempotent (IF NOT EXISTS), and run
// under an advisory lock so that two hubs opening the same database at once take turns.
import type { Pool, PoolClient } from 'pg';
import { TIERS } from '../rollups.ts';
import { METRICS } from '../../../protocol/index.ts';
import { SERIES_METRICS, type SeriesMetric } from '../../../shared/api-types.ts';
import { alarmAndSessionStateV10 } from './pg-state-schema.ts';

/** How `samples` is split by time: native daily partitions, or a TimescaleDB hypertable. */
export type Partitioning = 'native' | 'timescaledb';

/**
 * Column type of each metric of the registry. Counters of bytes, processes and seconds are bigint
 * (the wire allows any uint up to 2^53 − 1: an int4 would make one odd sample fail its whole batch);
 * percentages, loads and °C are real, 4 bytes: the agent rounds them to 0.1 and sends them as
 * float32 where that is exact, so float8 would only store noise.
 */
export const SAMPLE_COLUMN_TYPES = Object.fromEntries(METRICS.map((m) => [m.name, m.storage === 'integer' ? 'bigint' : 'real'])) as Readonly<
  Record<SeriesMetric, 'bigint' | 'real'>
>;
/** 8-byte columns first, then 4-byte ones: no alignment padding inside a row. */
export const SAMPLE_COLUMNS: readonly SeriesMetric[] = [
  ...SERIES_METRICS.filter((m) => SAMPLE_COLUMN_TYPES[m] === 'bigint'),
  ...SERIES_METRICS.filter((m) => SAMPLE_COLUMN_TYPES[m] === 'real'),
];

/** pg_advisory_lock keys (one 64-bit space per database): migrations, and partition create/drop. */
export const LOCK_KEYS = { migrate: 0x72656d6f6e0001n, partitions: 0x72656d6f6e0002n } as const;

function schemaV1(partitioning: Partitioning): string {
  return `
-- Nodes: one row each, with what the fleet page needs without touching the samples.
CREATE TABLE IF NOT EXISTS nodes (
  id serial PRIMARY KEY,
  name text NOT NULL UNIQUE,
  status text NOT NULL DEFAULT 'unknown',   -- online | offline | unknown
  status_ms bigint,                         -- when the status was received
  last_seen_ms bigint,                      -- sample time of the newest sample
  info bytea,                               -- birth record, CBOR as received
  latest bytea,                             -- newest sample, CBOR as received
  latest_processes bytea                    -- newest sample that carried the process list, CBOR
);

-- A boot id is 13–16 characters of text that every sample of a spool repeats: stored once here,
-- 4 bytes in each sample row and its index entry.
CREATE TABLE IF NOT EXISTS boots (
  id serial PRIMARY KEY,
  node_id integer NOT NULL REFERENCES nodes (id),
  boot text NOT NULL,
  UNIQUE (node_id, boot)
);

-- One row per sample: a typed column per metric of the registry (added by addMetricColumns), and the variable parts (cores,
-- filesystems, interfaces, top processes) as the same compact CBOR array the SQLite store keeps
-- (hub/storage/sample-detail.ts): one codec for both backends, never searched inside by SQL, and small:
-- 153 bytes a simulated sample against 474 as jsonb tuples and 770 as jsonb objects (jsonb keeps
-- every number as numeric and, for objects, every key in every row).
-- The key must hold the partition key, ts_ms. It still makes a re-sent sample a duplicate: a
-- replay is the agent's spooled copy of the same sample, so it carries the same ts_ms as well
-- as the same (node, boot, seq), lands in the same partition and hits the same key.
CREATE TABLE IF NOT EXISTS samples (
  node_id integer NOT NULL,
  boot_id integer NOT NULL,
  ts_ms bigint NOT NULL,
  seq bigint NOT NULL,
  detail bytea,
  PRIMARY KEY (node_id, ts_ms, boot_id, seq)
)${partitioning === 'native' ? ' PARTITION BY RANGE (ts_ms)' : ''};

-- Rollups: min / max / sum / count per metric (columns added by addMetricColumns) and bucket (tier = bucket width in s: ${TIERS.map((t) => t.seconds).join(', ')}).
-- mean = <m>_sum / <m>_n. Small beside the samples, so one plain table, purged by DELETE.
CREATE TABLE IF NOT EXISTS rollups (
  tier integer NOT NULL,
  node_id integer NOT NULL,
  bucket_ms bigint NOT NULL,
  n integer NOT NULL,
  PRIMARY KEY (tier, node_id, bucket_ms)
);

-- As in SQLite: each batch marks the oldest sample time it stored; a derive run moves the mark
-- to deriving_from_ms and clears that only when done, so a crash loses nothing.
CREATE TABLE IF NOT EXISTS rollup_state (
  id integer PRIMARY KEY CHECK (id = 1),
  dirty_from_ms bigint,
  deriving_from_ms bigint
);
INSERT INTO rollup_state (id) VALUES (1) ON CONFLICT DO NOTHING;
`;
}

// UNTESTED: TimescaleDB is not installed where this was written. Its chunks replace the daily
// partitions (same 1-day width); retention then calls drop_chunks (see hub/storage/postgres/pg-partitions.ts).
const hypertableSql = `CREATE EXTENSION IF NOT EXISTS timescaledb;
SELECT create_hypertable('samples', 'ts_ms', chunk_time_interval => 86400000, if_not_exists => TRUE);`;

// Acks (issue 5) shared by every hub of a group: one row per agent spool (boot), moved in the
// transaction that stores the samples it covers, while the batch's node rows are locked, so two
// hubs storing the same node's samples take turns. Unlike SQLite's single hub, which keeps them in
// memory, the stored ranges above next_seq live here too (flat [from, to, from, to, …]): the
// sample that closes a hole may reach another hub than the samples above it.
const acksV2 = `
CREATE TABLE IF NOT EXISTS ack_watermarks (
  boot_id integer PRIMARY KEY REFERENCES boots (id),
  next_seq bigint NOT NULL,
  above bigint[] NOT NULL DEFAULT '{}',
  dropped bigint NOT NULL DEFAULT 0,          -- samples the agent's spool dropped (its own count)
  updated_ms bigint NOT NULL
);

-- Samples that will never arrive: seqs an agent dropped from a full spool before any hub had them.
CREATE TABLE IF NOT EXISTS sample_gaps (
  boot_id integer NOT NULL REFERENCES boots (id),
  from_seq bigint NOT NULL,
  to_seq bigint NOT NULL,                     -- inclusive
  reason text NOT NULL,                       -- 'spool-dropped'
  recorded_ms bigint NOT NULL,
  PRIMARY KEY (boot_id, from_seq)
);
`;

// Which hub of a shared-subscription group runs the group's alarms, sessions and commands
// (hub/group/group-coordination.ts), and where the other hubs and web processes reach its API.
const coordinatorV3 = `
CREATE TABLE IF NOT EXISTS group_coordinator (
  group_name text PRIMARY KEY,
  hub_id text NOT NULL,
  api_url text NOT NULL,
  since_ms bigint NOT NULL
);
`;

// When a hub stored each node's newest sample (the hub's clock, unlike last_seen_ms, the node's):
// what a feed of the whole fleet polls for (hub/storage/postgres/pg-fleet-feed.ts).
const storedAtV4 = `ALTER TABLE nodes ADD COLUMN IF NOT EXISTS stored_ms bigint;`;

// A sample is identified by (node, boot, seq), never by its time (PROTOCOL.md): the key of
// `samples` must hold the partition key, ts_ms, so it cannot say that. Per boot, the seqs stored
// (hub/storage/stored-seqs.ts), flat [from, to, from, to, …] above next_seq, checked and moved under the
// batch's node locks (hub/storage/postgres/pg-store.ts). Copies of one sample stored before under different times:
// the earliest stays (PostgreSQL keeps no arrival order). A last_seen_ms past the clock now (a node
// clock in the future pinned it) is forgotten, so the next sample sets it again.
const sampleIdentityV5 = `
CREATE TABLE IF NOT EXISTS sample_seqs (
  boot_id integer PRIMARY KEY REFERENCES boots (id),
  next_seq bigint NOT NULL,
  above bigint[] NOT NULL DEFAULT '{}'
);
DELETE FROM samples s USING (
    SELECT node_id, boot_id, seq, min(ts_ms) AS first_ts FROM samples GROUP BY node_id, boot_id, seq HAVING count(*) > 1) c
  WHERE s.node_id = c.node_id AND s.boot_id = c.boot_id AND s.seq = c.seq AND s.ts_ms > c.first_ts;
INSERT INTO sample_seqs (boot_id, next_seq, above)
  SELECT boot_id, 0, array_agg(bound ORDER BY first_seq, k) FROM (
    SELECT boot_id, min(seq) AS first_seq, max(seq) AS last_seq FROM (
      SELECT boot_id, seq, seq - row_number() OVER (PARTITION BY boot_id ORDER BY seq) AS run FROM samples) runs
    GROUP BY boot_id, run) r
  CROSS JOIN LATERAL unnest(ARRAY[first_seq, last_seq]) WITH ORDINALITY AS b(bound, k)
  GROUP BY boot_id
ON CONFLICT (boot_id) DO NOTHING;
ALTER TABLE nodes ADD COLUMN IF NOT EXISTS clock_skew_ms bigint;   -- the node's clock minus the hub's at its newest live sample
UPDATE nodes SET last_seen_ms = NULL WHERE last_seen_ms > (extract(epoch FROM now()) * 1000)::bigint + 120000;
`;

// A removed node keeps its row, marked, so that a retained status or a late sample cannot bring it
// back (hub/storage/postgres/pg-store.ts, removeNode; SQLite migration 010).
const retiredNodesV6 = `ALTER TABLE nodes ADD COLUMN IF NOT EXISTS retired_ms bigint;`;

// The tags given to a node on the hub, a JSON list of words (SQLite migration 013).
const nodeTagsV7 = `ALTER TABLE nodes ADD COLUMN IF NOT EXISTS hub_tags text;`;

// Labelled series (a core, a mount, an interface, a container, a node's own metric; SQLite
// migration 014). Their raw values stay in each sample's detail blob; each series (node, name,
// label set: canonical JSON text, not jsonb, which would reorder the names) is named once; its
// minute buckets hold count and sum, in daily partitions dropped whole past the 1 min retention
// (hub/storage/postgres/pg-partitions.ts). labelled_dirty lists the minutes of each node stored since the rollup
// run last rebuilt them from the blobs (hub/storage/postgres/pg-labelled.ts): written under the batch's node locks,
// taken under the same locks, so a crash or a second hub loses nothing.
function labelledV8(partitioning: Partitioning): string {
  return `
CREATE TABLE IF NOT EXISTS labelled_series (
  id serial PRIMARY KEY,
  node_id integer NOT NULL REFERENCES nodes (id),
  name text NOT NULL,
  labels text NOT NULL,
  UNIQUE (node_id, name, labels)
);
CREATE TABLE IF NOT EXISTS labelled_rollups (
  series_id integer NOT NULL,
  bucket_ms bigint NOT NULL,
  n integer NOT NULL,
  sum float8 NOT NULL,
  PRIMARY KEY (series_id, bucket_ms)
)${partitioning === 'native' ? ' PARTITION BY RANGE (bucket_ms)' : ''};
CREATE TABLE IF NOT EXISTS labelled_dirty (
  node_id integer NOT NULL,
  minute_ms bigint NOT NULL,
  PRIMARY KEY (node_id, minute_ms)
);
${partitioning === 'timescaledb' ? "SELECT create_hypertable('labelled_rollups', 'bucket_ms', chunk_time_interval => 86400000, if_not_exists => TRUE);" : ''}`;
}

// Raw samples past their first hours, compressed: a node's hour a row, encoded by the SQLite store's
// codec (hub/storage/chunk-codec.ts; SQLite migration 012), written and read by hub/storage/postgres/pg-chunks.ts.
// The bytes are Brotli already: EXTERNAL spares TOAST a compression attempt that would gain nothing.
const sampleChunksV9 = `
CREATE TABLE IF NOT EXISTS sample_chunks (
  node_id integer NOT NULL,
  start_ms bigint NOT NULL,                   -- the hour's start
  rows integer NOT NULL,                      -- samples held
  data bytea NOT NULL,
  PRIMARY KEY (node_id, start_ms)
);
ALTER TABLE sample_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
`;

/** The schema's steps, in order; a step is never edited once released: a change is a new step. */
const MIGRATIONS: readonly { version: number; sql: (partitioning: Partitioning) => string }[] = [
  { version: 1, sql: (p) => schemaV1(p) + (p === 'timescaledb' ? hypertableSql : '') },
  { version: 2, sql: () => acksV2 },
  { version: 3, sql: () => coordinatorV3 },
  { version: 4, sql: () => storedAtV4 },
  { version: 5, sql: () => sampleIdentityV5 },
  { version: 6, sql: () => retiredNodesV6 },
  { version: 7, sql: () => nodeTagsV7 },
  { version: 8, sql: (p) => labelledV8(p) },
  { version: 9, sql: () => sampleChunksV9 },
  { version: 10, sql: () => alarmAndSessionStateV10 },
];
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/**
 * Brings the schema up to SCHEMA_VERSION. A new database uses a hypertable when the timescaledb
 * extension is available, else native partitions; an existing one keeps what it was created with.
 */
export async function migratePg(pool: Pool): Promise<Partitioning> {
  const client = await pool.connect();
  try {
    // Session lock: released below, or by the server if this connection dies.
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEYS.migrate.toString()]);
    try {
      return await migrateLocked(client);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEYS.migrate.toString()]);
    }
  } finally {
    client.release();
  }
}

async function migrateLocked(client: PoolClient): Promise<Partitioning> {
  await client.query(`CREATE TABLE IF NOT EXISTS schema_version (
    version integer PRIMARY KEY,
    partitioning text NOT NULL,               -- native | timescaledb, fixed when the schema is created
    applied_ms bigint NOT NULL)`);
  const { rows } = await client.query<{ version: number; partitioning: Partitioning }>(
    'SELECT version, partitioning FROM schema_version ORDER BY version DESC LIMIT 1',
  );
  const current = rows[0];
  if (current && current.version > SCHEMA_VERSION) {
    throw new Error(`database schema is version ${current.version}, newer than this hub understands (${SCHEMA_VERSION}): upgrade the hub`);
  }
  const partitioning = current?.partitioning ?? ((await timescaleAvailable(client)) ? 'timescaledb' : 'native');
  for (const step of MIGRATIONS) {
    if (step.version <= (current?.version ?? 0)) continue;
    // Each step and its version row in one transaction: a step half done is not recorded as done.
    await client.query('BEGIN');
    try {
      await client.query(step.sql(partitioning));
      await client.query('INSERT INTO schema_version (version, partitioning, applied_ms) VALUES ($1, $2, $3)', [step.version, partitioning, Date.now()]);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK');
      throw new Error(`could not apply PostgreSQL schema step ${step.version} (${partitioning}): ${(err as Error).message}`);
    }
  }
  await addMetricColumns(client);
  return partitioning;
}

/**
 * Adds the columns of registry metrics (protocol/metrics.ts) that `samples` and `rollups` lack, so
 * a new metric needs no schema step of its own; the first schema step creates neither table's
 * metric columns, which keeps that step the same whatever the registry holds. A nullable column
 * without a default changes only the catalog, whatever the table's size.
 */
async function addMetricColumns(client: PoolClient): Promise<void> {
  const { rows } = await client.query<{ table_name: string; column_name: string }>(
    `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name IN ('samples', 'rollups')`,
  );
  const has = new Set(rows.map((r) => `${r.table_name}.${r.column_name}`));
  const add = [
    ...SAMPLE_COLUMNS.filter((m) => !has.has(`samples.${m}`)).map((m) => `ALTER TABLE samples ADD COLUMN IF NOT EXISTS ${m} ${SAMPLE_COLUMN_TYPES[m]}`),
    ...SERIES_METRICS.filter((m) => !has.has(`rollups.${m}_n`)).map(
      (m) =>
        `ALTER TABLE rollups ADD COLUMN IF NOT EXISTS ${m}_min float8, ADD COLUMN IF NOT EXISTS ${m}_max float8, ADD COLUMN IF NOT EXISTS ${m}_sum float8, ADD COLUMN IF NOT EXISTS ${m}_n integer NOT NULL DEFAULT 0`,
    ),
  ];
  if (add.length === 0) return;
  await client.query('BEGIN');
  try {
    for (const sql of add) await client.query(sql);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    throw new Error(`could not add the metric columns to PostgreSQL: ${(err as Error).message}`);
  }
}

async function timescaleAvailable(client: PoolClient): Promise<boolean> {
  const { rowCount } = await client.query("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'");
  return (rowCount ?? 0) > 0;
}
