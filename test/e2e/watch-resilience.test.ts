// Watches across a broker restart (the agent keeps them) and across an agent restart (the hub
// sends the running sessions again when the node comes back online).
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedBroker } from '../../broker/broker.ts';
import { connectAsync } from 'mqtt';
import { decodeProcs, type ProcsSample } from '../../protocol/procs.ts';
import { encodeCommand } from '../../protocol/commands.ts';
import { topics } from '../../protocol/topics.ts';
import { CLI, cleanup, getJson, quietLog, runCleanups, spawnProcess, startBroker, startHub, waitFor } from '../helpers/parts.ts';

afterEach(runCleanups);

describe('watch resilience', () => {
  it('keeps a watch through a broker restart', async () => {
    const first = new EmbeddedBroker({ port: 0, log: quietLog });
    await first.start();
    const port = first.port;
    const url = `mqtt://127.0.0.1:${port}`;
    let current = first;
    cleanup(() => current.stop());
    spawnProcess(process.execPath, [CLI, 'agent', '--broker', url, '--node', 'wr-a', '--interval', '250ms']);
    const seen: ProcsSample[] = [];
    const client = await connectAsync(url, { protocolVersion: 4, reconnectPeriod: 200 });
    cleanup(() => client.endAsync(true));
    client.on('message', (_t, p) => seen.push(decodeProcs(p)));
    client.on('connect', () => void client.subscribe(topics.procs('wr-a'), { qos: 1 }));
    await client.subscribeAsync(topics.procs('wr-a'), { qos: 1 });
    // Sent until the agent answers with samples: a command sent before it has subscribed to its
    // commands is not kept for it, and how long it takes to connect depends on the machine's load.
    const watch = Buffer.from(encodeCommand({ id: 'w', action: 'watch', session: 'keep-1', target: { kind: 'pid', pid: process.pid }, interval_ms: 250 }));
    await waitFor(
      'watch samples',
      async () => {
        if (seen.length === 0) await client.publishAsync(topics.cmd('wr-a'), watch, { qos: 1 });
        return seen.length >= 2;
      },
      20_000,
      1000,
    );

    await first.stop();
    const second = new EmbeddedBroker({ port, log: quietLog });
    await second.start();
    current = second;
    const before = seen.length;
    const lastSeq = seen.at(-1)!.seq;
    await waitFor('watch samples after the restart', () => seen.slice(before).some((s) => s.seq > lastSeq + 1), 20_000);
    expect(seen.every((s) => s.session === 'keep-1')).toBe(true);
  });

  it('starts the watch again when a restarted agent comes back online', async () => {
    const { url } = await startBroker();
    const { api } = await startHub(url);
    const args = [CLI, 'agent', '--broker', url, '--node', 'wr-b', '--interval', '250ms'];
    const first = spawnProcess(process.execPath, args);
    await waitFor('wr-b online', async () => (await getJson(`${api}/api/nodes/wr-b/control`)).body.status === 'online');
    const res = await fetch(`${api}/api/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ node: 'wr-b', target: `pid:${process.pid}`, interval: '250ms' }),
    });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    await waitFor('samples', async () => (await getJson(`${api}/api/sessions/${id}`)).body.sample_count >= 2);

    first.child.kill('SIGKILL'); // the last will says offline
    await first.exited;
    await waitFor('wr-b offline', async () => (await getJson(`${api}/api/nodes/wr-b/control`)).body.status === 'offline', 45_000);
    const countAtRestart = (await getJson(`${api}/api/sessions/${id}`)).body.sample_count;
    spawnProcess(process.execPath, args);
    await waitFor('samples from the new agent', async () => (await getJson(`${api}/api/sessions/${id}`)).body.sample_count >= countAtRestart + 3, 20_000);
    const { body } = await getJson(`${api}/api/sessions/${id}`);
    expect(body.state).toBe('running');
    expect((await getJson(`${api}/api/nodes/wr-b/control`)).body.watches).toEqual([id]);
  });
});
