// The SQLite schema: the SQL files of hub/storage/sqlite/migrations/ in name order, then a column per metric of the
// registry (protocol/metrics.ts) in `samples` and its four in `rollups`, so that a metric added to
// the registry is stored without a migration of its own. Two processes opening one database (two
// hubs on one data directory, or the hub and `remonitor web`) take turns: each step runs in an
// IMMEDIATE transaction and reads the version again inside it.
import { readdirSync, readFileSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { METRICS } from '../../../protocol/index.ts';
import type { Logger } from '../../../shared/logger.ts';
import { migrationsDir } from './migrations-dir.ts';

/** Brings the database to the current schema. */
export function migrateSqlite(db: Database.Database, log?: Pick<Logger, 'info'>): void {
  const MIGRATIONS_DIR = migrationsDir();
  const atStart = db.pragma('user_version', { simple: true }) as number;
  const files = readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d+_.*\.sql$/.test(f))
    .sort();
  for (const file of files) {
    const version = Number.parseInt(file, 10);
    if (version <= atStart) continue;
    const sql = readFileSync(new URL(file, MIGRATIONS_DIR), 'utf8');
    const started = performance.now();
    // A new database runs every migration on empty tables in milliseconds: only an existing one is worth a word.
    if (atStart > 0) log?.info({ migration: file }, 'migrating the database: one that copies a large table can take minutes');
    const applied = db
      .transaction(() => {
        if ((db.pragma('user_version', { simple: true }) as number) >= version) return false; // another process got there first
        db.exec(sql);
        db.pragma(`user_version = ${version}`);
        return true;
      })
      .immediate();
    if (applied && atStart > 0) log?.info({ migration: file, ms: Math.round(performance.now() - started) }, 'migrated the database');
  }
  addMetricColumns(db);
}

/** Adds the columns of registry metrics the tables lack (cheap: SQLite changes only the schema). */
function addMetricColumns(db: Database.Database): void {
  const columnsOf = (table: string) => new Set((db.pragma(`table_info(${table})`) as { name: string }[]).map((c) => c.name));
  db.transaction(() => {
    const samples = columnsOf('samples');
    const rollups = columnsOf('rollups');
    for (const m of METRICS) {
      if (!samples.has(m.name)) db.exec(`ALTER TABLE samples ADD COLUMN ${m.name} ${m.storage === 'integer' ? 'INTEGER' : 'REAL'}`);
      if (rollups.has(`${m.name}_n`)) continue;
      for (const part of ['min', 'max', 'sum']) db.exec(`ALTER TABLE rollups ADD COLUMN ${m.name}_${part} REAL`);
      db.exec(`ALTER TABLE rollups ADD COLUMN ${m.name}_n INTEGER NOT NULL DEFAULT 0`);
    }
  }).immediate();
}
