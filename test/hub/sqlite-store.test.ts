import { join } from 'node:path';
import { afterAll } from 'vitest';
import { openSqliteStore } from '../../hub/sqlite-store.ts';
import { runCleanups, tempDir } from '../helpers/parts.ts';
import { storageContract } from './storage-contract.ts';

afterAll(runCleanups);

let n = 0;
storageContract('SQLite', ({ now, retention }) => openSqliteStore(join(tempDir(), `store-${n++}.db`), { now, retention }));
