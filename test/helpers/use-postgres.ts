// A real PostgreSQL server for the tests of one file (test/helpers/postgres.ts): started before
// them, stopped after them.
import { afterAll, beforeAll } from 'vitest';
import { startPostgres, type PostgresServer } from './postgres.ts';

/** The file's server, to be called at the top level of a test file; usable inside its tests. */
export function usePostgres(): Omit<PostgresServer, 'stop'> {
  let started: PostgresServer | undefined;
  beforeAll(async () => {
    started = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await started?.stop();
  });
  const running = (): PostgresServer => {
    if (!started) throw new Error('the PostgreSQL server is not running: use it inside a test, after beforeAll');
    return started;
  };
  return {
    get url() {
      return running().url;
    },
    createDatabase: () => running().createDatabase(),
  };
}
