// The agent bundle, run with the shipped unit's node flags against a real broker and hub, leaves
// the disk alone while the hub acknowledges: its block-device writes (/proc/<pid>/io write_bytes)
// stay within 200 B/s once connected (at the unit's 1 s interval), and on SIGTERM it reports (debug
// log) its syncs: a handful at start and stop, not one a sample.
// The live tail goes to a RAM directory given as systemd's RuntimeDirectory would be: a tmpfs
// (/dev/shm), as /run is; on a disk filesystem its pages would reach the disk at write-back.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { unitKeys } from '../helpers/fake-systemd.ts';
import { cleanup, REPO, runCleanups, spawnProcess, startBroker, startHub, tempDir, waitFor } from '../helpers/parts.ts';

afterEach(runCleanups);

const BUNDLE = join(REPO, 'dist/remonitor-agent.mjs');
const writeBytes = (pid: number) => Number(/^write_bytes: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))![1]);

function unitNodeFlags(): string[] {
  const words = unitKeys(readFileSync(join(REPO, 'deploy/remonitor-agent.service'), 'utf8'))
    .get('ExecStart')!
    .split(' ');
  return words.slice(
    1,
    words.findIndex((w) => /remonitor-agent\.[cm]?js$/.test(w)),
  );
}

describe('agent disk writes while connected', () => {
  it('writes under 200 B/s to the block device and syncs no sample while the hub acknowledges', async () => {
    const { url } = await startBroker();
    const { hub } = await startHub(url, tempDir(), { ackIntervalMs: 1000 });
    const spoolDir = tempDir('remonitor-spool-');
    const runtimeDir = mkdtempSync('/dev/shm/remonitor-run-');
    cleanup(() => rmSync(runtimeDir, { recursive: true, force: true }));
    const agent = spawnProcess(
      process.execPath,
      [...unitNodeFlags(), BUNDLE, '--broker', url, '--node', 'quiet-disk', '--interval', '1s', '--spool-dir', spoolDir, '--log-level', 'debug'],
      { env: { RUNTIME_DIRECTORY: runtimeDir } },
    );
    const pid = agent.child.pid!;
    await waitFor('samples acknowledged', () => hub.ingest.stats.stored >= 3, 30_000, 50);
    const stored0 = hub.ingest.stats.stored;
    const written0 = writeBytes(pid);
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, 30_000));
    const seconds = (Date.now() - t0) / 1000;
    const perSecond = (writeBytes(pid) - written0) / seconds;
    const samples = hub.ingest.stats.stored - stored0;
    agent.child.kill('SIGTERM');
    expect((await agent.exited).code).toBe(0);
    const closed = JSON.parse(
      agent
        .output()
        .split('\n')
        .find((l) => l.includes('"spool closed"'))!,
    ) as { syncs: number; spills: number };
    console.log(
      `[disk] connected: ${perSecond.toFixed(0)} B/s written over ${seconds.toFixed(1)} s, ${samples} samples stored; whole run: ${closed.syncs} syncs, ${closed.spills} spills`,
    );
    expect(samples).toBeGreaterThan(20);
    expect(perSecond).toBeLessThanOrEqual(200);
    // Start-up (spool.json, the first samples before the link was up), one seq reservation, and the
    // stop's own (the tail to the segments, spool.json): far fewer than the samples.
    expect(closed.syncs).toBeLessThan(samples / 2);
  }, 120_000);
});
