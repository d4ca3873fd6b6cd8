// Where the SQL migrations are: beside this file in the sources, and at the same path under the
// project from the bundle in dist/ (install-hub.sh and the Dockerfile copy the folder there).
import { existsSync } from 'node:fs';

const FROM_SOURCE = new URL('./migrations/', import.meta.url);
const FROM_BUNDLE = new URL('../hub/storage/sqlite/migrations/', import.meta.url);

/** The folder of the SQLite migrations, as a file URL ending in `/`. */
export function migrationsDir(): URL {
  return existsSync(FROM_SOURCE) ? FROM_SOURCE : FROM_BUNDLE;
}
