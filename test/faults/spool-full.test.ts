// Fault 5: the broker stays away until the spool is far past its cap. The oldest samples are
// dropped, the count is exact (agent's count = hub's recorded gap = sent − stored), the agent's
// memory stays flat while it keeps dropping, and everything kept is delivered once the hub is back.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedBroker } from '../../broker/broker.ts';
import { freePort } from '../helpers/mosquitto.ts';
import { cleanup, quietLog, runCleanups, startHub, tempDir, waitFor } from '../helpers/parts.ts';
import { allAcked, figures, HUB_ACK_INTERVAL_MS, printFigures, simAgent } from './fleet.ts';

afterEach(runCleanups);

const MB = 1024 * 1024;

describe('fault 5: spool past its cap', () => {
  it('drops the oldest with an exact count and flat memory', async () => {
    const port = await freePort();
    const url = `mqtt://127.0.0.1:${port}`;
    // 2 ms a sample: the 256 KiB cap (about 4 000 of these small samples) is passed within seconds.
    const agent = simAgent(url, 'full', { intervalMs: 2, spoolMaxBytes: 256 * 1024, replayPerSecond: 2000, maxInFlight: 64 });
    await agent.start();
    const spool = agent.replayer.spool;
    await waitFor('the spool dropping', () => spool.dropped > 0, 30_000, 20);
    const heapAtCap = process.memoryUsage().heapUsed;
    const droppedAtCap = spool.dropped;
    await waitFor('3 more caps worth dropped', () => spool.dropped > droppedAtCap + 3000, 60_000, 50);
    const heapLater = process.memoryUsage().heapUsed;
    expect(spool.bytes).toBeLessThanOrEqual(256 * 1024 + 32 * 1024);

    const broker = new EmbeddedBroker({ port, log: quietLog });
    await broker.start();
    cleanup(() => broker.stop());
    const dataDir = tempDir();
    const { hub } = await startHub(url, dataDir, { ackIntervalMs: HUB_ACK_INTERVAL_MS });
    agent.pause();
    await allAcked([agent], 30_000);
    await waitFor('the gap recorded', () => hub.acks!.gaps.lostCount('full') === spool.dropped, 10_000);
    const f = figures(join(dataDir, 'remonitor.db'), [agent], ['full']);
    printFigures('spool past its 256 KiB cap', f, {
      'dropped (agent)': spool.dropped,
      'gap recorded (hub)': hub.acks!.gaps.lostCount('full'),
      'heap at cap (MB)': (heapAtCap / MB).toFixed(1),
      'heap after 3000 more dropped (MB)': (heapLater / MB).toFixed(1),
    });
    expect(f.duplicates).toBe(0);
    expect(f.lost).toBe(spool.dropped);
    expect(hub.acks!.gaps.lostCount('full')).toBe(spool.dropped);
    // Flat: a spool that keeps dropping holds segment metadata only, not its samples.
    expect(heapLater - heapAtCap).toBeLessThan(16 * MB);
  });
});
