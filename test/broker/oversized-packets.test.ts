// 50 clients each declare a 200 MB PUBLISH and keep sending its body: each is disconnected at the
// fixed header, the broker's heap stays flat, and a normal publisher and subscriber carry on.
// Real broker, real sockets on 127.0.0.1, in this process so its heap is the one measured.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { EmbeddedBroker } from '../../broker/broker.ts';
import { cleanup, quietLog, runCleanups } from '../helpers/parts.ts';
import { closed, connectPacket, openSocket, publishHeader } from './raw-mqtt.ts';

afterEach(runCleanups);

// A forced collection makes the before/after heap figures mean live memory, not garbage.
const gc: () => void =
  (globalThis as { gc?: () => void }).gc ??
  (() => {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  })();

/** JS heap and Buffer memory (which lives outside the JS heap), in bytes, after forced GCs. */
async function memoryAfterGc(): Promise<{ heap: number; buffers: number }> {
  for (let i = 0; i < 3; i++) {
    gc();
    await sleep(20);
  }
  const m = process.memoryUsage();
  return { heap: m.heapUsed, buffers: m.arrayBuffers };
}

const MB = 1024 * 1024;
const TOPIC = 'remonitor/limits-test/metrics';

async function startBroker(): Promise<EmbeddedBroker> {
  const broker = new EmbeddedBroker({ port: 0, log: quietLog });
  await broker.start();
  cleanup(() => broker.stop());
  return broker;
}

/** A subscriber and a publisher sending one message every 10 ms; `received()` counts arrivals. */
async function normalTraffic(url: string): Promise<{ received: () => number }> {
  const sub = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0 });
  cleanup(() => sub.endAsync(true));
  let received = 0;
  sub.on('message', () => received++);
  await sub.subscribeAsync(TOPIC);
  const pub = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0 });
  cleanup(() => pub.endAsync(true));
  const timer = setInterval(() => pub.publish(TOPIC, Buffer.alloc(200)), 10);
  cleanup(() => clearInterval(timer));
  return { received: () => received };
}

describe('maximum packet size', () => {
  it('disconnects 50 clients declaring 200 MB each; heap flat, others unaffected', async () => {
    const broker = await startBroker();
    const traffic = await normalTraffic(`mqtt://127.0.0.1:${broker.port}`);
    await sleep(200);
    expect(traffic.received()).toBeGreaterThan(0);

    const before = await memoryAfterGc();
    let peak = 0; // JS heap + Buffers, sampled without GC, so it includes garbage
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      peak = Math.max(peak, m.heapUsed + m.arrayBuffers);
    }, 5);
    const receivedBefore = traffic.received();
    const start = Date.now();

    // Each attacker connects properly, declares a 200 MB PUBLISH, then pushes up to 4 MB of its
    // body in 64 KB writes for as long as the broker lets it.
    const chunk = Buffer.alloc(64 * 1024, 0x41);
    const attackers = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const socket = await openSocket(broker.port);
        const done = closed(socket, start);
        socket.write(connectPacket(`attacker-${i}`));
        await sleep(20); // let the CONNECT be accepted, so the PUBLISH is what is refused
        socket.write(publishHeader(TOPIC, 200 * MB));
        for (let sent = 0; sent < 4 * MB && !socket.destroyed; sent += chunk.length) {
          if (!socket.write(chunk)) await Promise.race([new Promise((r) => socket.once('drain', r)), done]);
        }
        return done;
      }),
    );
    const closedAfterMs = await Promise.all(attackers);
    clearInterval(sampler);
    const receivedDuring = traffic.received() - receivedBefore;
    const after = await memoryAfterGc();
    const receivedThroughGc = traffic.received() - receivedBefore;

    const heapMb = (after.heap - before.heap) / MB;
    const buffersMb = (after.buffers - before.buffers) / MB;
    const peakMb = (peak - before.heap - before.buffers) / MB;
    console.log(
      `oversized-packet attack: 50 × 200 MB declared; all closed within ${Math.max(...closedAfterMs)} ms; growth after GC: ` +
        `heap ${heapMb.toFixed(2)} MB, Buffers ${buffersMb.toFixed(2)} MB; peak (heap + Buffers, no GC) ${peakMb.toFixed(2)} MB ` +
        `above baseline; ${receivedDuring} normal messages delivered meanwhile`,
    );
    expect(closedAfterMs).toHaveLength(50);
    expect(heapMb).toBeLessThan(20);
    expect(buffersMb).toBeLessThan(20);
    expect(peakMb).toBeLessThan(100); // 50 × 4 MB = 200 MB went on the wire
    expect(receivedThroughGc).toBeGreaterThan(0); // the attack takes ~100 ms: few messages fit in it alone
    const settled = traffic.received();
    await sleep(300);
    expect(traffic.received()).toBeGreaterThan(settled); // still flowing after the attack
  });

  it('a malformed 5-byte remaining length is disconnected too, and logged once with the address', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) });
    const broker = new EmbeddedBroker({ port: 0, log });
    await broker.start();
    cleanup(() => broker.stop());
    const socket = await openSocket(broker.port);
    const done = closed(socket);
    socket.write(connectPacket('bad-length'));
    await sleep(20);
    socket.write(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]));
    socket.write(Buffer.from([0xc0, 0x00])); // nothing more is read
    expect(await done).toBeLessThan(5_000);
    const warnings = lines.map((l) => JSON.parse(l) as { address?: string; kind?: string });
    expect(warnings).toEqual([expect.objectContaining({ address: '127.0.0.1', kind: 'malformed' })]);
  });

  it('packets at the cap still pass', async () => {
    const broker = await startBroker();
    const url = `mqtt://127.0.0.1:${broker.port}`;
    const sub = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0 });
    cleanup(() => sub.endAsync(true));
    await sub.subscribeAsync(TOPIC);
    const got = new Promise<number>((resolve) => sub.once('message', (_t, payload) => resolve(payload.length)));
    const pub = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0 });
    cleanup(() => pub.endAsync(true));
    // 1 type byte + 3 length bytes + 2 + topic bytes + payload = exactly 256 KB
    const payload = Buffer.alloc(broker.limits.maxPacketBytes - 4 - 2 - TOPIC.length);
    await pub.publishAsync(TOPIC, payload);
    expect(await got).toBe(payload.length);
  });

  it('applies over WebSocket as well', async () => {
    const broker = await startBroker();
    const http = createServer();
    broker.attachWebSocket(http);
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    cleanup(() => new Promise<void>((resolve) => http.close(() => resolve())));
    const port = (http.address() as AddressInfo).port;

    const ok = await mqtt.connectAsync(`ws://127.0.0.1:${port}/mqtt`, { protocolVersion: 4, reconnectPeriod: 0 });
    cleanup(() => ok.endAsync(true));
    await ok.subscribeAsync(TOPIC);

    const ws = new WebSocket(`ws://127.0.0.1:${port}/mqtt`, 'mqtt');
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const wsClosed = new Promise<number>((resolve) => ws.once('close', resolve));
    ws.send(connectPacket('ws-attacker'));
    await sleep(20);
    ws.send(Buffer.concat([publishHeader(TOPIC, 200 * MB), Buffer.alloc(1024)]));
    await wsClosed;

    const got = new Promise<string>((resolve) => ok.once('message', (_t, p) => resolve(p.toString())));
    await ok.publishAsync(TOPIC, 'still here');
    expect(await got).toBe('still here');
  });
});
