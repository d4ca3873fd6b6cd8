// The credentials database: `auth.db` beside the metrics in the data directory. Kept apart from
// the metrics so that its few rows are never caught up in retention, and so that a broker or web
// process can open it alone. Each store creates its own tables (CREATE ... IF NOT EXISTS).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

export const AUTH_DB_FILE = 'auth.db';

export type AuthDb = Database.Database;

export function openAuthDb(dataDir: string): AuthDb {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(join(dataDir, AUTH_DB_FILE));
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000'); // the CLI (`remonitor node add`) writes while a hub reads
  return db;
}
