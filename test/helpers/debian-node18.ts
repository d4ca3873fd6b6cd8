// Debian bookworm's own Node.js 18 for tests, fetched and unpacked by scripts/fetch-debian-node18.sh
// (cached under ~/.cache): the path of its `node` wrapper. A test that needs it fails, never skips,
// when it cannot be had.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from './parts.ts';

/** How long the first fetch may take (apt-get download of the package and its libraries). */
export const FETCH_NODE18_TIMEOUT_MS = 660_000;

export function debianNode18(): string {
  try {
    return execFileSync(join(REPO, 'scripts/fetch-debian-node18.sh'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 })
      .trim()
      .split('\n')
      .at(-1)!;
  } catch (err) {
    throw new Error(`could not get Debian's Node.js 18 with scripts/fetch-debian-node18.sh:\n${(err as { stderr?: string }).stderr ?? (err as Error).message}`);
  }
}
