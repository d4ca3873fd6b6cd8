// Remote commands end to end: a real agent process, the embedded broker, mosquitto_pub for the
// JSON command a person would send, an MQTT client for CBOR, and the hub's REST API.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeReply, encodeCommand, type Reply } from '../../protocol/commands.ts';
import { decodeSample, topics, type Sample } from '../../protocol/index.ts';
import { CLI, cleanup, getJson, runCleanups, spawnProcess, startBroker, startHub, waitFor } from '../helpers/parts.ts';

afterEach(runCleanups);
const run = promisify(execFile);

interface Wire {
  client: MqttClient;
  replies: { raw: Buffer; reply: Reply }[];
  samples: { at: number; sample: Sample }[];
}

/** An agent process with --interval 250ms, and a client that sees its replies and samples. */
async function agentUnderTest(url: string, node: string): Promise<Wire> {
  const client = await connectAsync(url, { protocolVersion: 4 });
  cleanup(() => client.endAsync());
  const wire: Wire = { client, replies: [], samples: [] };
  client.on('message', (topic, payload) => {
    if (topic === topics.reply(node)) wire.replies.push({ raw: payload, reply: decodeReply(payload) });
    if (topic === topics.metrics(node)) wire.samples.push({ at: Date.now(), sample: decodeSample(payload) });
  });
  await client.subscribeAsync({ [topics.reply(node)]: { qos: 1 }, [topics.metrics(node)]: { qos: 1 } });
  spawnProcess(process.execPath, [CLI, 'agent', '--broker', url, '--node', node, '--interval', '250ms', '--process-interval', '250ms']);
  await waitFor(`samples from ${node}`, () => wire.samples.length >= 2);
  return wire;
}

async function replyTo(wire: Wire, id: string | null, count = 1): Promise<{ raw: Buffer; reply: Reply }[]> {
  return waitFor(`reply ${id}`, () => {
    const found = wire.replies.filter((r) => r.reply.id === id);
    return found.length >= count ? found : null;
  });
}

const brokerPort = (url: string) => new URL(url).port;

describe('remote commands', () => {
  it('answers a JSON command sent with mosquitto_pub in JSON, and a CBOR command in CBOR', async () => {
    const { url } = await startBroker();
    const wire = await agentUnderTest(url, 'cmd-a');
    await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', brokerPort(url), '-q', '1', '-t', topics.cmd('cmd-a'), '-m', '{"id": "j1", "action": "ping"}']);
    const [json] = await replyTo(wire, 'j1');
    expect(json!.raw.toString()).toMatch(/^\{"id":"j1","ok":true,"result":\{"pong":true/);
    expect(json!.reply).toMatchObject({ ok: true, result: { pong: true, paused: false, interval_ms: 250 } });

    await wire.client.publishAsync(topics.cmd('cmd-a'), Buffer.from(encodeCommand({ id: 'c1', action: 'ping' }, 'cbor')), { qos: 1 });
    const [cbor] = await replyTo(wire, 'c1');
    expect(cbor!.raw[0]).not.toBe(0x7b); // not JSON
    expect(cbor!.reply).toMatchObject({ id: 'c1', ok: true, result: { pong: true } });
  });

  it('refuses an unknown action, bad arguments and a malformed payload with ok:false, and keeps sampling', async () => {
    const { url } = await startBroker();
    const wire = await agentUnderTest(url, 'cmd-b');
    const send = (payload: string | Buffer) => wire.client.publishAsync(topics.cmd('cmd-b'), payload, { qos: 1 });
    await send('{"id": "u1", "action": "reboot"}');
    expect((await replyTo(wire, 'u1'))[0]!.reply).toEqual({
      id: 'u1',
      ok: false,
      error: '"action" "reboot" is unknown; known actions: start, stop, interval, watch, unwatch, snapshot, ping',
    });
    await send('{"id": "i1", "action": "interval", "interval_ms": 10}');
    expect((await replyTo(wire, 'i1'))[0]!.reply).toMatchObject({
      ok: false,
      error: 'interval: interval 10ms is out of bounds: it must be between 250ms and 1h',
    });
    await send('{"id": "w1", "action": "watch", "session": "s1"}');
    expect((await replyTo(wire, 'w1'))[0]!.reply).toMatchObject({ ok: false, error: expect.stringContaining('needs one of "pid", "name", "cmdline"') });
    await send('{"id": "m1", "action": ');
    await send(Buffer.from([0xff, 0x00, 0x13]));
    const malformed = await replyTo(wire, null, 2);
    expect(malformed.map((r) => r.reply)).toEqual([
      { id: null, ok: false, error: expect.stringMatching(/^payload is not valid JSON/) },
      { id: null, ok: false, error: expect.stringMatching(/^payload is not valid CBOR|^payload must be a map/) },
    ]);
    const before = wire.samples.length;
    await waitFor('samples after the bad commands', () => wire.samples.length >= before + 3);
  });

  it('does the work of a repeated id once and answers twice', async () => {
    const { url } = await startBroker();
    const wire = await agentUnderTest(url, 'cmd-c');
    const payload = Buffer.from(encodeCommand({ id: 'snap-1', action: 'snapshot' }, 'cbor'));
    await wire.client.publishAsync(topics.cmd('cmd-c'), payload, { qos: 1 });
    await replyTo(wire, 'snap-1');
    await wire.client.publishAsync(topics.cmd('cmd-c'), payload, { qos: 1 });
    const [first, second] = await replyTo(wire, 'snap-1', 2);
    expect(first!.reply.ok).toBe(true);
    expect(second!.reply).toEqual(first!.reply); // same seq, same process list: one snapshot
    const result = (first!.reply as unknown as { result: { seq: number; procs_total: number; processes: unknown[] } }).result;
    expect(result.procs_total).toBeGreaterThan(3);
    expect(result.processes).toHaveLength(result.procs_total);
    const snap = await waitFor('the snapshot sample', () => wire.samples.find((s) => s.sample.seq === result.seq));
    expect(snap.sample.top_mem?.length).toBeGreaterThan(0);
  });

  it('stop pauses samples while the node stays online, start resumes them, interval changes the cadence', async () => {
    const { url } = await startBroker();
    const { api } = await startHub(url);
    const wire = await agentUnderTest(url, 'cmd-d');
    const send = async (id: string, fields: string) => {
      await wire.client.publishAsync(topics.cmd('cmd-d'), `{"id": "${id}", ${fields}}`, { qos: 1 });
      return (await replyTo(wire, id))[0]!.reply;
    };
    expect(await send('p1', '"action": "stop"')).toMatchObject({ ok: true, result: { paused: true } });
    const pausedAt = Date.now();
    // Several intervals (250 ms each) pass with no sample; one already in flight may still land.
    await new Promise((r) => setTimeout(r, 1500));
    const during = wire.samples.filter((s) => s.at > pausedAt + 300);
    expect(during).toHaveLength(0);
    const { body } = await getJson(`${api}/api/nodes/cmd-d/control`);
    expect(body).toMatchObject({ status: 'online', paused: true });

    expect(await send('p2', '"action": "start"')).toMatchObject({ ok: true, result: { paused: false } });
    const resumed = wire.samples.length;
    await waitFor('samples after start', () => wire.samples.length >= resumed + 3);

    const fast = cadence(wire.samples.slice(-3));
    expect(await send('p3', '"action": "interval", "interval": "1s"')).toMatchObject({ ok: true, result: { interval_ms: 1000 } });
    const from = wire.samples.length;
    await waitFor('4 samples at the new interval', () => wire.samples.length >= from + 4, 20_000);
    const slow = cadence(wire.samples.slice(from));
    expect(slow / fast).toBeGreaterThan(2.5); // 1000 ms against 250 ms
    expect(slow / fast).toBeLessThan(6);
  });

  it('goes through the hub: POST /api/nodes/:node/commands, an offline node, an unknown one', async () => {
    const { url } = await startBroker();
    const { api } = await startHub(url);
    await agentUnderTest(url, 'cmd-e');
    await waitFor('cmd-e online at the hub', async () => (await getJson(`${api}/api/nodes/cmd-e/control`)).body.status === 'online');
    const post = async (node: string, body: unknown) => {
      const res = await fetch(`${api}/api/nodes/${node}/commands`, {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      });
      return { status: res.status, body: (await res.json()) as Record<string, any> };
    };
    const ping = await post('cmd-e', { action: 'ping' });
    expect(ping.status).toBe(200);
    expect(ping.body).toMatchObject({ status: 'replied', ok: true, result: { pong: true } });
    expect((await getJson(`${api}/api/commands/${ping.body.id}`)).body).toMatchObject({ ok: true, node: 'cmd-e' });

    const bad = await post('cmd-e', { action: 'interval', interval: 'soon' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('interval: interval "soon" is not a duration such as 500, "500ms", "5s" or "1m"');
    expect((await post('nobody', { action: 'ping' })).status).toBe(404);

    // A node that is offline: its retained status says so.
    const c = await connectAsync(url, { protocolVersion: 4 });
    cleanup(() => c.endAsync());
    await c.publishAsync(topics.status('gone'), 'offline', { qos: 1, retain: true });
    await waitFor('gone known offline', async () => (await getJson(`${api}/api/nodes/gone/control`)).body.status === 'offline');
    const offline = await post('gone', { action: 'ping' });
    expect(offline.status).toBe(504);
    expect(offline.body.error).toBe('node "gone" is offline: the command was not sent');
    await c.publishAsync(topics.status('gone'), '', { qos: 1, retain: true }); // clear the retained message
  });
});

/** Median spacing of samples by their own timestamps, ms. */
function cadence(samples: { sample: Sample }[]): number {
  const d = samples
    .slice(1)
    .map((s, i) => s.sample.ts_ms - samples[i]!.sample.ts_ms)
    .sort((a, b) => a - b);
  return d[Math.floor(d.length / 2)] ?? NaN;
}
