// Fault 3: an agent is cut off (the broker stops) and comes back. Full backfill, no seq gaps, and
// live samples are not delayed behind the backlog. The outage is 15 s of samples at 20 Hz (300
// samples, the same backlog as 5 minutes at 1 Hz) so the whole suite stays within its time budget.
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedBroker } from '../../broker/broker.ts';
import type { Sample } from '../../protocol/index.ts';
import { freePort } from '../helpers/mosquitto.ts';
import { join } from 'node:path';
import { cleanup, quietLog, runCleanups, startHub, tempDir, waitFor } from '../helpers/parts.ts';
import { allAcked, figures, HUB_ACK_INTERVAL_MS, printFigures, simAgent } from './fleet.ts';

afterEach(runCleanups);

async function brokerOn(port: number): Promise<EmbeddedBroker> {
  const broker = new EmbeddedBroker({ port, log: quietLog });
  await broker.start();
  return broker;
}

describe('fault 3: agent cut off, then back', () => {
  it('backfills everything, oldest first, while live samples flow at once', async () => {
    const port = await freePort();
    const url = `mqtt://127.0.0.1:${port}`;
    let broker = await brokerOn(port);
    cleanup(() => broker.stop());
    const dataDir = tempDir();
    const { hub } = await startHub(url, dataDir, { ackIntervalMs: HUB_ACK_INTERVAL_MS });
    const events: { sample: Sample; at: number }[] = [];
    hub.feed.subscribe((e) => {
      if (e.type === 'sample' && e.sample) events.push({ sample: e.sample, at: Date.now() });
    });
    // 20/s backlog replay against 20/s live: the backlog takes as long as the outage to drain.
    const agent = simAgent(url, 'cut-off', { intervalMs: 50, replayPerSecond: 40 });
    await agent.start();
    await waitFor('first samples acked', () => agent.replayer.spool.acked >= 20);

    await broker.stop();
    const cutAt = agent.replayer.spool.nextSeq;
    await new Promise((r) => setTimeout(r, 15_000));
    const backlog = agent.replayer.spool.nextSeq - agent.replayer.spool.acked;
    broker = await brokerOn(port);
    const backAt = Date.now();
    await waitFor('backlog drained', () => agent.replayer.spool.acked >= cutAt + backlog, 40_000, 200);
    // Stop sampling so that "everything acked" can be true at some moment, then wait for it.
    agent.pause();
    await allAcked([agent], 15_000);
    await agent.stop();

    const f = figures(join(dataDir, 'remonitor.db'), [agent], ['cut-off']);
    const after = events.filter((e) => e.at >= backAt);
    const live = after.filter((e) => !e.sample.historical);
    const historical = after.filter((e) => e.sample.historical);
    const firstLive = live[0]!;
    const lastHistorical = historical.at(-1)!;
    const replayOrder = historical.map((e) => e.sample.seq);
    printFigures('agent cut off 15 s (backlog ' + backlog + ')', f, {
      'historical received': historical.length,
      'first live after reconnect (ms)': firstLive.at - backAt,
      'backlog drained after (ms)': lastHistorical.at - backAt,
    });
    expect(f.lost).toBe(0);
    expect(f.duplicates).toBe(0);
    expect(backlog).toBeGreaterThan(100);
    // Live did not wait for the backlog: the first live sample came before the backlog's end.
    expect(firstLive.at).toBeLessThan(lastHistorical.at);
    // Oldest first: the replayed seqs of the first pass ascend.
    const firstPass = replayOrder.slice(0, replayOrder.findIndex((s, i) => i > 0 && s < replayOrder[i - 1]!) >>> 0);
    expect(firstPass).toEqual([...firstPass].sort((a, b) => a - b));
  });
});
