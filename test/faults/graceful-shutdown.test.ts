// Graceful shutdown on SIGTERM: `remonitor hub` flushes its last batch, acks it, closes and exits 0
// (so the agent's spool is empty afterwards); `remonitor broker` exits 0; the agent's own SIGTERM is
// covered in agent-kill.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/mosquitto.ts';
import { CLI, runCleanups, spawnProcess, tempDir, waitFor } from '../helpers/parts.ts';
import { simAgent } from './fleet.ts';

afterEach(runCleanups);

describe('graceful shutdown', () => {
  it('the hub stores and acks what it holds before it exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const url = `mqtt://127.0.0.1:${port}`;
    const broker = spawnProcess(process.execPath, [CLI, 'broker', '--insecure', '--mqtt-port', String(port), '--ws-port', '0', '--log-level', 'warn']);
    await broker.waitForLine(/remonitor: broker at/);
    const hub = spawnProcess(process.execPath, [CLI, 'hub', '--insecure', '--broker', url, '--data-dir', tempDir(), '--http-port', '0', '--log-level', 'warn']);
    await hub.waitForLine(/remonitor: hub on/);
    const agent = simAgent(url, 'polite', { intervalMs: 20 });
    await agent.start();
    await waitFor('acks flowing', () => agent.replayer.spool.acked > 20, 20_000);
    agent.pause();
    // Within the hub's 200 ms batch window: the last samples are received, not yet committed.
    await new Promise((r) => setTimeout(r, 60));
    hub.child.kill('SIGTERM');
    expect((await hub.exited).code).toBe(0);
    // The last ack left the hub before it exited; the broker may hand it over a moment later.
    await waitFor('the last ack', () => agent.replayer.spool.acked === agent.replayer.spool.nextSeq, 5000, 20).catch(() => undefined);
    const { acked, nextSeq } = agent.replayer.spool;
    console.log(`[fault] hub SIGTERM: sent ${nextSeq}, acked by the exiting hub ${acked}`);
    expect(acked).toBe(nextSeq);
    broker.child.kill('SIGTERM');
    expect((await broker.exited).code).toBe(0);
  });
});
