// Per-IP caps at accept, and the keepalive cap, against the real broker over 127.0.0.1. Loopback
// is exempt from the per-IP caps by default, so these tests turn `ipLimitsOnLoopback` on.
import { setTimeout as sleep } from 'node:timers/promises';
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { EmbeddedBroker } from '../../broker/broker.ts';
import type { BrokerLimits } from '../../broker/limits.ts';
import { cleanup, quietLog, runCleanups } from '../helpers/parts.ts';
import { closed, connackCode, connectPacket, openSocket } from './raw-mqtt.ts';

afterEach(runCleanups);

async function startBroker(limits: Partial<BrokerLimits>): Promise<EmbeddedBroker> {
  const broker = new EmbeddedBroker({ port: 0, log: quietLog, limits });
  await broker.start();
  cleanup(() => broker.stop());
  return broker;
}

async function openMany(port: number, n: number): Promise<Socket[]> {
  const sockets = await Promise.all(Array.from({ length: n }, () => openSocket(port)));
  cleanup(() => sockets.forEach((s) => s.destroy()));
  return sockets;
}

/** True if the socket is still open after `ms`. */
async function staysOpen(socket: Socket, ms = 300): Promise<boolean> {
  return Promise.race([closed(socket).then(() => false), sleep(ms).then(() => true)]);
}

/** Opens a socket, sends CONNECT, returns the CONNACK code (null: closed without one). */
async function tryConnect(port: number, keepaliveSec: number): Promise<number | null> {
  const socket = await openSocket(port);
  cleanup(() => {
    socket.destroy();
  });
  const code = connackCode(socket);
  socket.write(connectPacket(`c-${Math.random().toString(36).slice(2)}`, keepaliveSec));
  return code;
}

describe('connections per IP', () => {
  it('refuses the sockets over the cap at accept, and admits again once one closes', async () => {
    const broker = await startBroker({ ipLimitsOnLoopback: true, maxConnectionsPerIp: 5, connectTimeoutMs: 60_000 });
    const sockets = await openMany(broker.port, 8);
    const open = await Promise.all(sockets.map((s) => staysOpen(s)));
    expect(open.filter(Boolean)).toHaveLength(5);
    expect(open.filter((o) => !o)).toHaveLength(3);

    const survivor = sockets[open.indexOf(true)]!;
    survivor.destroy();
    await sleep(100); // the broker sees the close
    const [again] = await openMany(broker.port, 1);
    expect(await staysOpen(again!)).toBe(true);
    const [extra] = await openMany(broker.port, 1);
    expect(await staysOpen(extra!)).toBe(false);
  });

  it('applies to WebSocket upgrades as well', async () => {
    const broker = await startBroker({ ipLimitsOnLoopback: true, maxConnectionsPerIp: 1 });
    const http = createServer();
    broker.attachWebSocket(http);
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    cleanup(() => new Promise<void>((resolve) => http.close(() => resolve())));
    const url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}/mqtt`;
    const outcome = (ws: WebSocket): Promise<string> =>
      new Promise((resolve) => {
        ws.once('open', () => resolve('open'));
        ws.once('error', () => resolve('refused'));
      });
    const first = new WebSocket(url, 'mqtt');
    cleanup(() => first.terminate());
    expect(await outcome(first)).toBe('open');
    const second = new WebSocket(url, 'mqtt');
    cleanup(() => second.terminate());
    expect(await outcome(second)).toBe('refused');
  });

  it('loopback is exempt by default: 250 sockets from 127.0.0.1 all stay', async () => {
    const broker = await startBroker({});
    expect(broker.limits.maxConnectionsPerIp).toBeLessThan(250);
    const sockets = await openMany(broker.port, 250);
    const open = await Promise.all(sockets.map((s) => staysOpen(s)));
    expect(open.every(Boolean)).toBe(true);
  });
});

describe('failed CONNECTs per IP', () => {
  it('an address over the cap is refused new sockets for a while, then let in', async () => {
    const blockMs = 1_000;
    const broker = await startBroker({ ipLimitsOnLoopback: true, maxFailedConnectsPerMinute: 3, failedConnectBlockMs: blockMs, keepaliveLimitSec: 60 });
    // A keepalive over the cap is one way to be refused (return code 6 from Aedes).
    for (let i = 0; i < 4; i++) expect(await tryConnect(broker.port, 120)).toBe(6);
    await sleep(50);
    const blockedAt = Date.now();
    expect(await tryConnect(broker.port, 30)).toBeNull(); // a valid CONNECT, but from a blocked address
    await sleep(blockMs - (Date.now() - blockedAt) + 100);
    expect(await tryConnect(broker.port, 30)).toBe(0);
  });
});

describe('keepalive cap', () => {
  it.each([
    [30, 0],
    [3600, 0],
    [3601, 6],
    [0, 6], // "never time out" is refused while a cap is set
  ])('keepalive %i s → CONNACK %i with the default cap', async (keepalive, code) => {
    const broker = await startBroker({});
    expect(await tryConnect(broker.port, keepalive)).toBe(code);
  });
});
