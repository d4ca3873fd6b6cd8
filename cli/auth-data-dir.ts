// The data directory a credentials command (user, token, node, client) works on, said out loud.
// Only `add` may start a new auth.db (people or nodes made before the hub's first start): any other
// action on a directory without one was pointed at the wrong place, would find nobody there, and
// would leave a stray auth.db behind; it is refused instead, naming the path and how to give the
// right one.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AUTH_DB_FILE } from '../auth/auth-db.ts';

/** The absolute data directory to open; prints which one on stderr. `example` is a command to suggest. */
export function authDataDir(command: string, dataDir: string, action: string, example: string): string {
  const dir = resolve(dataDir);
  const file = join(dir, AUTH_DB_FILE);
  const exists = existsSync(file);
  if (!exists && action !== 'add') {
    throw new Error(
      `no ${file}: no hub keeps its data in ${dir}, and nothing was created there. ` +
        `Give the hub's data directory with --data-dir (or REMONITOR_DATA_DIR), e.g. \`${example} --data-dir /var/lib/remonitor\` ` +
        '(install-hub.sh keeps it there; the Docker image in /data)',
    );
  }
  console.error(`remonitor ${command}: ${exists ? 'data directory' : 'new data directory (no hub has used it yet)'} ${dir}`);
  return dir;
}
