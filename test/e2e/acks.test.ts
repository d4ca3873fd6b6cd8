// Application acks end to end: agent spool → embedded broker → hub commit → ack → spool freed.
import { afterEach, describe, expect, it } from 'vitest';
import { runCleanups, startBroker, startHub, waitFor } from '../helpers/parts.ts';
import { simAgent } from '../faults/fleet.ts';

afterEach(runCleanups);

describe('acknowledged delivery', () => {
  it('frees the spool only as far as the hub has committed, per boot id', async () => {
    const { url } = await startBroker();
    const { hub } = await startHub(url);
    const agent = simAgent(url, 'acked', { intervalMs: 100 });
    await agent.start();
    await waitFor('10 samples acked', () => agent.replayer.spool.acked >= 10);
    const acks = hub.acks!;
    expect(acks.next('acked', agent.bootId)).toBeGreaterThanOrEqual(agent.replayer.spool.acked);
    expect(agent.stats.droppedOffline).toBe(0);
  });
});
