// An error about a database file names it, and for a damaged one says how to recover: what the
// hub's store meets when it opens its file (hub/sqlite-open.ts, used by openSqliteStore).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../hub/storage/sqlite/sqlite-store.ts';
import { runCleanups, tempDir } from '../helpers/parts.ts';

afterEach(runCleanups);

describe('opening a database file', () => {
  it('names the file that is not a database, and says how to recover', () => {
    const dir = tempDir();
    const path = join(dir, 'remonitor.db');
    writeFileSync(path, Buffer.alloc(8192, 'garbage '));
    expect(() => openSqliteStore(path)).toThrow(`the database ${path} is damaged (file is not a database). Stop remonitor and move the file aside`);
    expect(() => openSqliteStore(path)).toThrow(`sqlite3 ${path}.damaged ".recover" | sqlite3 ${path}`);
  });

  it('names the file SQLite cannot open', () => {
    const path = join(tempDir(), 'remonitor.db');
    mkdirSync(path); // a directory where the file should be
    expect(() => openSqliteStore(path)).toThrow(`${path}: unable to open database file`);
  });
});
