// The credentials database: `auth.db` beside the metrics in the data directory. Kept apart from
// the metrics so that its few rows are never caught up in retention, and so that a broker or web
// process can open it alone. Each store creates its own tables (CREATE ... IF NOT EXISTS).
import { chmodSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { prepareDataDir, PRIVATE_FILE_MODE } from '../shared/data-dir.ts';
import { databaseError, openDatabase } from '../shared/sqlite-open.ts';

export const AUTH_DB_FILE = 'auth.db';

export type AuthDb = Database.Database;

/** Opens `<dataDir>/auth.db` (the cookie-signing secret and password hashes: 0600, whatever an older version left). */
export function openAuthDb(dataDir: string): AuthDb {
  const path = join(prepareDataDir(dataDir), AUTH_DB_FILE);
  const db = openDatabase(path); // waits for the CLI (`remonitor node add`) writing while a hub reads
  try {
    for (const file of [path, `${path}-wal`, `${path}-shm`]) makePrivate(file);
  } catch (err) {
    db.close();
    throw databaseError(path, err);
  }
  return db;
}

/** 0600 unless it is already, or is not there, or belongs to someone else (their choice then). */
function makePrivate(file: string): void {
  let mode: number;
  try {
    mode = statSync(file).mode & 0o777;
  } catch {
    return;
  }
  if (mode === PRIVATE_FILE_MODE) return;
  try {
    chmodSync(file, PRIVATE_FILE_MODE);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
  }
}
