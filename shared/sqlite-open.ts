// Every SQLite connection of remonitor is opened here: each waits for another's lock rather than
// failing, a new file is private to the user, and an error names the file (and, for a damaged
// one, how to recover). The hub's threads, the alarm store and auth.db each hold a connection to
// the same files, and a CLI command may write while the hub runs.
import { closeSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import { PRIVATE_FILE_MODE } from './data-dir.ts';

/**
 * How long a statement waits for another connection's lock, ms. A write transaction that reads
 * first must also begin IMMEDIATE (`db.transaction(fn).immediate()`): SQLite never waits to turn a
 * read into a write, it fails at once with "database is locked".
 */
export const BUSY_TIMEOUT_MS = 5000;

/** An error about one database file, which it names. */
export class DatabaseFileError extends Error {
  override readonly name = 'DatabaseFileError';
}

/** What to do about a damaged database file: the README's "A damaged database" says the same at more length. */
export function recoveryAdvice(path: string): string {
  return (
    `Stop remonitor and move the file aside with its -wal and -shm files (mv ${path} ${path}.damaged; the same for ${path}-wal), then start again: ` +
    `a new database is made, and agents send again what the hub had not acknowledged. To salvage the history: ` +
    `sqlite3 ${path}.damaged ".recover" | sqlite3 ${path} (the sqlite3 shell 3.45 or later, before starting). See "A damaged database" in the README.`
  );
}

export function damagedMessage(path: string, what: string): string {
  return `the database ${path} is damaged (${what}). ${recoveryAdvice(path)}`;
}

/** SQLite's result codes for a file that is not a sound database. */
const isDamage = (err: unknown) => /^SQLITE_(CORRUPT|NOTADB)/.test(String((err as { code?: unknown }).code));

/**
 * True when `err` (possibly wrapped by databaseError) came from the file, its locks or the disk
 * (busy, locked, full, read-only, I/O, damaged): the same write may succeed later. False for an
 * error of the data itself (a constraint), which no retry mends.
 */
export function isStoreFailure(err: unknown): boolean {
  const code = String(((err as { cause?: unknown }).cause as { code?: unknown } | undefined)?.code ?? (err as { code?: unknown }).code);
  return /^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|READONLY|CORRUPT|NOTADB|PROTOCOL)/.test(code);
}

/** `err` (from any operation on the database at `path`) as an error that names the file. */
export function databaseError(path: string, err: unknown): Error {
  if (err instanceof DatabaseFileError) return err;
  const message = (err as Error).message;
  return new DatabaseFileError(isDamage(err) ? damagedMessage(path, message) : `${path}: ${message}`, { cause: err });
}

/** Runs `fn` on the database at `path`; what it throws names the file. */
export function naming<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw databaseError(path, err);
  }
}

export interface OpenOptions {
  readonly?: boolean;
}

/**
 * Opens (or creates, mode 0600) the SQLite file at `path` in WAL mode with BUSY_TIMEOUT_MS.
 * The directory must exist (hub/data-dir.ts). A file whose header is not SQLite's fails here.
 */
export function openDatabase(path: string, options: OpenOptions = {}): Database.Database {
  if (path !== ':memory:' && !options.readonly) createPrivately(path);
  let db: Database.Database | null = null;
  try {
    db = new Database(path, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // The first read of the file: a damaged header shows here ("file is not a database").
    if (!options.readonly) db.pragma('journal_mode = WAL');
    else db.pragma('schema_version');
    return db;
  } catch (err) {
    db?.close();
    throw databaseError(path, err);
  }
}

/** SQLite makes a file 0644 (under the usual umask); an empty file made first is a valid empty database, and its -wal and -shm files take its mode. */
function createPrivately(path: string): void {
  try {
    closeSync(openSync(path, 'wx', PRIVATE_FILE_MODE));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new DatabaseFileError(`cannot create the database ${path}: ${(err as Error).message}`);
  }
}

/**
 * `PRAGMA quick_check` (the whole file, every page, but not index contents against tables: O(size),
 * about 3.7 s a GB from the page cache and 41 s a GB from this machine's disk). Returns the problems
 * found, at most `max`; none when the file is sound.
 */
export function quickCheck(db: Database.Database, max = 10): string[] {
  try {
    const rows = db.pragma(`quick_check(${max})`) as { quick_check: string }[];
    return rows.map((r) => r.quick_check).filter((r) => r !== 'ok');
  } catch (err) {
    if (isDamage(err)) return [(err as Error).message];
    throw err;
  }
}
