import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

// Agents started without --spool-dir keep their spool under $XDG_STATE_HOME: a fresh one per run,
// so a run never inherits another run's boot id, seq or backlog.
const stateHome = mkdtempSync(join(tmpdir(), 'remonitor-test-state-'));

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    env: { XDG_STATE_HOME: stateHome },
  },
});
