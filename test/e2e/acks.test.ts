// Application acks end to end: agent spool → embedded broker → hub commit → ack → spool freed.
import { connectAsync } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeAck, topics } from '../../protocol/index.ts';
import { cleanup, runCleanups, startBroker, startHub, waitFor } from '../helpers/parts.ts';
import { HUB_ACK_INTERVAL_MS, simAgent } from '../faults/fleet.ts';

afterEach(runCleanups);

describe('acknowledged delivery', () => {
  it('frees the spool only as far as the hub has committed, per boot id', async () => {
    const { url } = await startBroker();
    const { hub } = await startHub(url, undefined, { ackIntervalMs: HUB_ACK_INTERVAL_MS });
    const agent = simAgent(url, 'acked', { intervalMs: 100 });
    await agent.start();
    await waitFor('10 samples acked', () => agent.replayer.spool.acked >= 10);
    const acks = hub.acks!;
    expect(acks.next('acked', agent.bootId)).toBeGreaterThanOrEqual(agent.replayer.spool.acked);
    expect(agent.stats.droppedOffline).toBe(0);
  });

  it('acks each node at most once per ack interval, with the newest seq, and the last ack follows within it', async () => {
    const { url } = await startBroker();
    await startHub(url, undefined, { ackIntervalMs: 1000 });
    const listener = await connectAsync(url, { clientId: 'ack-listener' });
    cleanup(() => listener.endAsync());
    const heard: { atMs: number; next: number }[] = [];
    listener.on('message', (_topic, payload) => heard.push({ atMs: Date.now(), next: decodeAck(payload).next }));
    await listener.subscribeAsync(topics.ack('paced'), { qos: 1 });
    // 10 samples a second, so without pacing about 3 commits a second would each send an ack.
    const agent = simAgent(url, 'paced', { intervalMs: 100, ackTimeoutMs: 10_000 });
    await agent.start();
    await waitFor('30 samples acked', () => agent.replayer.spool.acked >= 30, 15_000);
    agent.pause();
    await new Promise((r) => setTimeout(r, 300)); // a sample being taken at the pause
    const recorded = agent.replayer.spool.nextSeq;
    const pausedAt = Date.now();
    // The newest ack, held back by the pacing, still comes: within the interval, plus a commit and a tick.
    await waitFor('the ack of the last sample', () => heard.at(-1)?.next === recorded, 3000, 20);
    expect(Date.now() - pausedAt).toBeLessThan(2000);
    const spanS = (heard.at(-1)!.atMs - heard[0]!.atMs) / 1000;
    const last = heard.at(-1)!.next;
    // At most one ack a second (plus the first, sent at once); each carrying the newest seq.
    expect(heard.length).toBeLessThanOrEqual(Math.floor(spanS) + 2);
    expect(last).toBeGreaterThan(heard.length * 5);
    for (let i = 1; i < heard.length; i++) {
      expect(heard[i]!.next).toBeGreaterThan(heard[i - 1]!.next);
      expect(heard[i]!.atMs - heard[i - 1]!.atMs).toBeGreaterThanOrEqual(900);
    }
    expect(agent.replayer.stats.rewinds).toBe(0);
  });
});
