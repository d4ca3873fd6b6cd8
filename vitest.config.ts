import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

// Agents started without --spool-dir keep their spool under $XDG_STATE_HOME: a fresh one per run,
// so a run never inherits another run's boot id, seq or backlog.
const stateHome = mkdtempSync(join(tmpdir(), 'remonitor-test-state-'));

// Tests that hold the hub to a latency bound (*.latency.test.ts) run after all the others, one
// file at a time: on a 2-core machine a browser test beside them would be what they measure.
const LATENCY_TESTS = 'test/**/*.latency.test.ts';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    env: { XDG_STATE_HOME: stateHome },
    projects: [
      { extends: true, test: { name: 'main', include: ['test/**/*.test.ts'], exclude: [LATENCY_TESTS] } },
      { extends: true, test: { name: 'latency', include: [LATENCY_TESTS], fileParallelism: false, sequence: { groupOrder: 1 } } },
    ],
  },
});
