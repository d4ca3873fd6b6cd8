// Sockets that hold resources without doing their part: 1,000 that never send CONNECT, and a
// subscriber that stops reading. Real broker and sockets on 127.0.0.1, with short timeouts set
// through the broker's limits so the test runs in seconds.
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedBroker } from '../../broker/broker.ts';
import type { BrokerLimits } from '../../broker/limits.ts';
import { cleanup, quietLog, runCleanups } from '../helpers/parts.ts';
import { closed, connectPacket, openSocket, subscribePacket } from './raw-mqtt.ts';

afterEach(runCleanups);

const TOPIC = 'remonitor/limits-test/metrics';

async function startBroker(limits: Partial<BrokerLimits>): Promise<{ broker: EmbeddedBroker; url: string }> {
  const broker = new EmbeddedBroker({ port: 0, log: quietLog, limits });
  await broker.start();
  cleanup(() => broker.stop());
  return { broker, url: `mqtt://127.0.0.1:${broker.port}` };
}

async function client(url: string): Promise<mqtt.MqttClient> {
  const c = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0 });
  cleanup(() => c.endAsync(true));
  return c;
}

describe('CONNECT timeout', () => {
  it('closes 1,000 sockets that never send CONNECT within the timeout; others unaffected', async () => {
    const connectTimeoutMs = 1_000;
    const { broker, url } = await startBroker({ connectTimeoutMs });
    const sub = await client(url);
    await sub.subscribeAsync(TOPIC);
    const pub = await client(url);

    const start = Date.now();
    const sockets: Socket[] = [];
    for (let i = 0; i < 1_000; i += 100) sockets.push(...(await Promise.all(Array.from({ length: 100 }, () => openSocket(broker.port)))));
    cleanup(() => sockets.forEach((s) => s.destroy()));
    const closedAt = Promise.all(sockets.map((s) => closed(s, start)));
    const openedMs = Date.now() - start;

    // Meanwhile a connected pair keeps working.
    const got = new Promise<string>((resolve) => sub.once('message', (_t, p) => resolve(p.toString())));
    await pub.publishAsync(TOPIC, 'during the flood');
    expect(await got).toBe('during the flood');

    const times = await closedAt;
    const last = Math.max(...times);
    console.log(`1,000 idle sockets: opened in ${openedMs} ms, all closed by ${last} ms (connect timeout ${connectTimeoutMs} ms)`);
    expect(Math.min(...times)).toBeGreaterThanOrEqual(connectTimeoutMs - 50); // closed by the timeout, not before
    expect(last).toBeLessThan(openedMs + connectTimeoutMs + 2_000);
  });

  it('a client that does send CONNECT in time stays', async () => {
    const { broker } = await startBroker({ connectTimeoutMs: 300 });
    const socket = await openSocket(broker.port);
    const done = closed(socket);
    socket.write(connectPacket('prompt'));
    const early = await Promise.race([done.then(() => 'closed'), sleep(800).then(() => 'open')]);
    expect(early).toBe('open');
    socket.destroy();
  });
});

describe('drain timeout', () => {
  // The stalled subscriber is a raw socket that subscribes and then stops reading, so the broker's
  // writes to it back up through both kernel buffers. Aedes finishes a message only when every
  // subscriber took it and holds at most `concurrency` (1,000) unfinished: without a drain
  // timeout the healthy subscriber would stop receiving once those are used up.
  async function stalledScenario(drainTimeoutMs: number, messages: number, waitMs: number) {
    const { broker, url } = await startBroker({ drainTimeoutMs });
    const stalled = await openSocket(broker.port);
    cleanup(() => {
      stalled.destroy();
    });
    stalled.on('error', () => {});
    const stalledClosed = new Promise<boolean>((resolve) => stalled.once('close', () => resolve(true)));
    stalled.write(Buffer.concat([connectPacket('stalled'), subscribePacket(TOPIC)]));
    await sleep(100); // CONNACK and SUBACK arrive and wait unread: the socket is never read
    stalled.pause();

    const healthy = await client(url);
    let received = 0;
    healthy.on('message', () => received++);
    await healthy.subscribeAsync(TOPIC);

    const pub = await client(url);
    const payload = Buffer.alloc(8 * 1024, 0x42);
    for (let i = 0; i < messages; i++) {
      pub.publish(TOPIC, payload);
      if (i % 200 === 199) await sleep(1); // let the broker read; a burst of QoS 0 is the worst case
    }
    const deadline = Date.now() + waitMs;
    while (received < messages && Date.now() < deadline) await sleep(20);
    const receivedInTime = received;
    // Did the broker cut it off? Read what it had buffered: a cut socket then sees the broker's
    // FIN or reset; one still connected just stays open.
    stalled.resume();
    const cut = await Promise.race([stalledClosed, sleep(2_000).then(() => false)]);
    return { received: receivedInTime, cut };
  }

  it('a subscriber that stops reading is cut off, and delivery to another goes on', async () => {
    const messages = 4_000; // 32 MB: far more than the loopback buffers plus 1,000 in flight
    const { received, cut } = await stalledScenario(500, messages, 15_000);
    console.log(`stalled subscriber (drain timeout 500 ms): healthy one got ${received}/${messages}; stalled one disconnected: ${cut}`);
    expect(cut).toBe(true);
    expect(received).toBe(messages);
  });

  it('control: without a short drain timeout the healthy subscriber is frozen', async () => {
    const messages = 4_000;
    const { received, cut } = await stalledScenario(3_600_000, messages, 3_000);
    console.log(`control (drain timeout 1 h): healthy subscriber got ${received}/${messages} in 3 s; stalled one disconnected: ${cut}`);
    expect(cut).toBe(false);
    expect(received).toBeLessThan(messages);
  });
});
