// The state contract (state-contract.ts) on both storage drivers: a SQLite file, and a real
// PostgreSQL server (one for the file, a fresh database per test).
import { join } from 'node:path';

import { openStorageDriver } from '../../hub/storage/driver.ts';
import { usePostgres } from '../helpers/use-postgres.ts';
import { quietLog, tempDir } from '../helpers/parts.ts';
import { alarmStateContract, sessionStateContract, writerContract, type OpenDriver } from './state-contract.ts';

const server = usePostgres();

/** A driver on `storage` (a postgres:// URL, or undefined for the SQLite file), and how to open another on the same. */
const opener =
  (storage: () => Promise<string | undefined>): OpenDriver =>
  async () => {
    const url = await storage();
    const sqlitePath = join(tempDir(), 'remonitor.db');
    const open = () => openStorageDriver(url, { sqlitePath, log: quietLog });
    return { driver: await open(), again: open };
  };

alarmStateContract(
  'SQLite',
  opener(async () => undefined),
);
alarmStateContract(
  'PostgreSQL',
  opener(() => server.createDatabase()),
);
sessionStateContract(
  'SQLite',
  opener(async () => undefined),
);
sessionStateContract(
  'PostgreSQL',
  opener(() => server.createDatabase()),
);
writerContract(
  'SQLite',
  opener(async () => undefined),
);
writerContract(
  'PostgreSQL',
  opener(() => server.createDatabase()),
);
