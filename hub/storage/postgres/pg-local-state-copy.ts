// Hubs on PostgreSQL kept their alarm and session state in the SQLite file of their data directory
// until schema step 10 (pg-state-schema.ts) moved it into the database. On its first start with
// PostgreSQL, a hub copies what its file holds of that state into the database, once: the file is
// then marked, so a later start reads nothing again. The copy is one transaction under a lock,
// and each row is skipped where the database has it already, so hubs starting at once, a copied
// data directory, or a crash between the commit and the mark copy nothing twice.
import type Database from 'better-sqlite3';
import type { Pool, PoolClient } from 'pg';
import type { Logger } from '../../../shared/logger.ts';
import { naming, openDatabase } from '../../../shared/sqlite-open.ts';
import { inTransaction } from './pg-partitions.ts';

/** Rows copied, per kind. */
export interface CopiedState {
  transitions: number;
  acks: number;
  /** Silences not yet ended. */
  silences: number;
  /** Notifications not yet delivered. */
  deliveries: number;
  sessions: number;
  samples: number;
}

/** In the SQLite file: when its state was copied into PostgreSQL, and how many rows of each kind. */
const MARK_TABLE = 'state_copied_to_postgres';
/** Serializes the copies of hubs that start at once (any constant key of this database's advisory locks). */
const COPY_LOCK = 0x7265_6d6f;
/** Rows per INSERT. */
const BATCH = 1000;

type Row = Record<string, unknown>;

/** How a table's rows go into PostgreSQL: its columns with their types, and what makes a row one the database has already. */
interface Target {
  table: string;
  columns: [name: string, pgType: string][];
  /** A condition on `c` (the row offered), or an ON CONFLICT clause. */
  skip: { where: string } | { onConflict: string };
}

const TRANSITIONS: Target = {
  table: 'alarm_transitions',
  columns: [
    ['ts_ms', 'bigint'],
    ['node', 'text'],
    ['rule_id', 'text'],
    ['subject', 'text'],
    ['metric', 'text'],
    ['from_state', 'text'],
    ['to_state', 'text'],
    ['value', 'float8'],
    ['threshold', 'float8'],
    ['tt_ms', 'bigint'],
  ],
  skip: {
    where: `NOT EXISTS (SELECT 1 FROM alarm_transitions t WHERE t.node = c.node AND t.rule_id = c.rule_id AND t.subject = c.subject
              AND t.ts_ms = c.ts_ms AND t.to_state = c.to_state)`,
  },
};
const ACKS: Target = {
  table: 'alarm_acks',
  columns: [
    ['node', 'text'],
    ['rule_id', 'text'],
    ['subject', 'text'],
    ['state', 'text'],
    ['ts_ms', 'bigint'],
    ['by', 'text'],
  ],
  // The database's acknowledgement of an alarm is at least as recent as the file's.
  skip: { onConflict: 'ON CONFLICT (node, rule_id, subject) DO NOTHING' },
};
const SILENCES: Target = {
  table: 'alarm_silences',
  columns: [
    ['node', 'text'],
    ['rule_id', 'text'],
    ['subject', 'text'],
    ['from_ms', 'bigint'],
    ['until_ms', 'bigint'],
    ['reason', 'text'],
    ['node_pattern', 'text'],
    ['tag', 'text'],
    ['created_by', 'text'],
  ],
  skip: {
    where: `NOT EXISTS (SELECT 1 FROM alarm_silences s WHERE s.from_ms = c.from_ms AND s.until_ms = c.until_ms
              AND s.node IS NOT DISTINCT FROM c.node AND s.rule_id IS NOT DISTINCT FROM c.rule_id AND s.subject IS NOT DISTINCT FROM c.subject
              AND s.node_pattern IS NOT DISTINCT FROM c.node_pattern AND s.tag IS NOT DISTINCT FROM c.tag)`,
  },
};
const DELIVERIES: Target = {
  table: 'alarm_deliveries',
  columns: [
    ['created_ms', 'bigint'],
    ['kind', 'text'],
    ['url', 'text'],
    ['body', 'text'],
    ['attempts', 'integer'],
    ['next_attempt_ms', 'bigint'],
    ['last_error', 'text'],
  ],
  skip: { where: 'NOT EXISTS (SELECT 1 FROM alarm_deliveries d WHERE d.created_ms = c.created_ms AND d.url = c.url AND d.body = c.body)' },
};
const SESSIONS: Target = {
  table: 'sessions',
  columns: [
    ['id', 'text'],
    ['node', 'text'],
    ['target', 'text'],
    ['interval_ms', 'bigint'],
    ['source', 'text'],
    ['state', 'text'],
    ['started_ms', 'bigint'],
    ['stopped_ms', 'bigint'],
    ['last_sample_ms', 'bigint'],
    ['error', 'text'],
  ],
  skip: { onConflict: 'ON CONFLICT (id) DO NOTHING' },
};
const SAMPLES: Target = {
  table: 'session_samples',
  columns: [
    ['session_id', 'text'],
    ['ts_ms', 'bigint'],
    ['seq', 'bigint'],
    ['rss_bytes', 'bigint'],
    ['rss_anon_bytes', 'bigint'],
    ['rss_file_bytes', 'bigint'],
    ['swap_bytes', 'bigint'],
    ['vsize_bytes', 'bigint'],
    ['cpu_pct', 'real'],
    ['procs', 'integer'],
    ['detail', 'text'],
  ],
  skip: { onConflict: 'ON CONFLICT (session_id, ts_ms, seq) DO NOTHING' },
};

/** The INSERT of a batch: one array parameter per column, rows kept in the file's order. */
function insertSql(t: Target): string {
  const names = t.columns.map(([name]) => name).join(', ');
  const arrays = t.columns.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ');
  const where = 'where' in t.skip ? `WHERE ${t.skip.where}` : '';
  const onConflict = 'onConflict' in t.skip ? t.skip.onConflict : '';
  return `INSERT INTO ${t.table} (${names}) SELECT ${names} FROM unnest(${arrays}) WITH ORDINALITY AS c(${names}, n) ${where} ORDER BY n ${onConflict}`;
}

/** Inserts the rows in batches; how many the database did not have. */
async function copyRows(client: PoolClient, t: Target, rows: Iterable<Row>): Promise<number> {
  const sql = insertSql(t);
  let copied = 0;
  let batch: Row[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const res = await client.query(
      sql,
      t.columns.map(([name]) => batch.map((r) => r[name] ?? null)),
    );
    copied += res.rowCount ?? 0;
    batch = [];
  };
  for (const row of rows) {
    batch.push(row);
    if (batch.length >= BATCH) await flush();
  }
  await flush();
  return copied;
}

const hasTable = (db: Database.Database, name: string) => db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;

/** The file's rows of a query, or none when it lacks one of `tables` (a file no hub kept that state in). */
function* localRows(db: Database.Database, tables: string[], sql: string, ...params: unknown[]): Generator<Row> {
  if (!tables.every((name) => hasTable(db, name))) return;
  yield* db.prepare<unknown[], Row>(sql).iterate(...params);
}

/**
 * Copies the alarm and session state of the SQLite file at `sqlitePath` into the database of
 * `pool`, unless the file says it was copied; logs what was copied. Null when it had been.
 */
export async function copyLocalStateToPg(pool: Pool, sqlitePath: string, log: Logger, nowMs = Date.now()): Promise<CopiedState | null> {
  const db = openDatabase(sqlitePath);
  try {
    if (naming(sqlitePath, () => hasTable(db, MARK_TABLE) && db.prepare(`SELECT 1 FROM ${MARK_TABLE}`).get() !== undefined)) return null;
    const copied = await inTransaction(pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [COPY_LOCK]);
      const scope = hasTable(db, 'alarm_silence_scope');
      return {
        transitions: await copyRows(
          client,
          TRANSITIONS,
          localRows(
            db,
            ['alarm_transitions'],
            `SELECT ts_ms, node, rule_id, subject, metric, from_state, to_state, value, threshold, CAST(round(tt_ms) AS INTEGER) AS tt_ms
             FROM alarm_transitions ORDER BY ts_ms, id`,
          ),
        ),
        acks: await copyRows(client, ACKS, localRows(db, ['alarm_acks'], 'SELECT * FROM alarm_acks')),
        silences: await copyRows(
          client,
          SILENCES,
          localRows(
            db,
            ['alarm_silences'],
            scope
              ? `SELECT s.*, x.node_pattern, x.tag, x.created_by FROM alarm_silences s LEFT JOIN alarm_silence_scope x ON x.silence_id = s.id
                 WHERE s.until_ms > ? ORDER BY s.id`
              : 'SELECT * FROM alarm_silences WHERE until_ms > ? ORDER BY id',
            nowMs,
          ),
        ),
        deliveries: await copyRows(
          client,
          DELIVERIES,
          localRows(db, ['alarm_deliveries'], 'SELECT * FROM alarm_deliveries WHERE delivered_ms IS NULL ORDER BY id'),
        ),
        sessions: await copyRows(client, SESSIONS, localRows(db, ['sessions'], 'SELECT * FROM sessions ORDER BY started_ms')),
        samples: await copyRows(client, SAMPLES, localRows(db, ['session_samples'], 'SELECT * FROM session_samples')),
      };
    });
    naming(sqlitePath, () => {
      db.exec(`CREATE TABLE IF NOT EXISTS ${MARK_TABLE} (copied_ms INTEGER NOT NULL, copied TEXT NOT NULL)`);
      db.prepare(`INSERT INTO ${MARK_TABLE} (copied_ms, copied) VALUES (?, ?)`).run(nowMs, JSON.stringify(copied));
    });
    if (Object.values(copied).some((n) => n > 0))
      log.info({ from: sqlitePath, ...copied }, 'copied the alarm and session state of the local file into PostgreSQL');
    return copied;
  } finally {
    db.close();
  }
}
