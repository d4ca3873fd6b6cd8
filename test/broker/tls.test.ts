// TLS end to end with a real self-signed certificate from openssl: MQTT over TLS on the embedded
// broker, MQTT over secure WebSocket and the API over HTTPS from web/server.ts, and an agent that
// trusts the hub's certificate with --ca publishing samples the hub stores.
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import mqtt, { type IClientOptions } from 'mqtt';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedBroker, type BrokerOptions } from '../../broker/broker.ts';
import { agentSpec, createAgent } from '../../edge-agent/main.ts';
import { resolveOptions } from '../../shared/options.ts';
import { LiveFeed } from '../../hub/live-feed.ts';
import { openSqliteStore } from '../../hub/storage/sqlite/sqlite-store.ts';
import { createApp } from '../../web/app.ts';
import type { NodesResponse } from '../../shared/api-types.ts';
import { listen } from '../../web/server.ts';
import { cleanup, quietLog, REPO, runCleanups, spawnProcess, startHub, tempDir, waitFor } from '../helpers/parts.ts';
import { selfSignedPair, type CertPair } from '../helpers/self-signed.ts';
import { closed, connectPacket, openSocket, publishHeader } from './raw-mqtt.ts';

afterEach(runCleanups);

let pair: CertPair;
let dir: string;
beforeAll(() => {
  // one pair per file, removed after all of its tests (tempDir's cleanup runs after each test)
  dir = mkdtempSync(join(tmpdir(), 'remonitor-tls-'));
  pair = selfSignedPair(dir);
  return () => rmSync(dir, { recursive: true, force: true });
});

async function startTlsBroker(extra: Partial<BrokerOptions> = {}): Promise<EmbeddedBroker> {
  const broker = new EmbeddedBroker({ port: 0, log: quietLog, tls: { cert: pair.cert, key: pair.key, port: 0 }, ...extra });
  await broker.start();
  cleanup(() => broker.stop());
  return broker;
}

const CLIENT: IClientOptions = { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000 };

async function client(url: string, options: IClientOptions = {}) {
  const c = await mqtt.connectAsync(url, { ...CLIENT, ...options });
  cleanup(() => c.endAsync(true));
  return c;
}

/** Resolves with the error of a connection attempt that must fail (no retries). */
function refusal(url: string, options: IClientOptions = {}): Promise<Error> {
  return mqtt.connectAsync(url, { ...CLIENT, ...options }, false).then(
    (c) => {
      c.end(true);
      throw new Error(`${url} accepted a client that should have been refused`);
    },
    (err: Error) => err,
  );
}

/** Subscribes `sub`, publishes from `pub`, resolves with what `sub` received. */
async function roundTrip(sub: mqtt.MqttClient, pub: mqtt.MqttClient, topic: string, payload: string): Promise<string> {
  await sub.subscribeAsync(topic, { qos: 1 });
  const got = new Promise<string>((resolve) => sub.once('message', (_t, p) => resolve(p.toString())));
  await pub.publishAsync(topic, payload, { qos: 1 });
  return got;
}

describe('MQTT over TLS (mqtts)', () => {
  it('carries messages between clients that trust the certificate, over TLS', async () => {
    const broker = await startTlsBroker();
    expect(broker.tlsPort).toBeGreaterThan(0);
    const url = `mqtts://127.0.0.1:${broker.tlsPort}`;
    const sub = await client(url, { ca: pair.cert });
    const pub = await client(url, { ca: pair.cert });
    expect(await roundTrip(sub, pub, 'remonitor/tls/metrics', 'over tls')).toBe('over tls');
    const stream = sub.stream as TLSSocket;
    expect(stream.encrypted).toBe(true);
    expect(stream.authorized).toBe(true);
    // and the plain listener still serves the same broker
    const plain = await client(`mqtt://127.0.0.1:${broker.port}`);
    expect(await roundTrip(plain, pub, 'remonitor/tls/status', 'mixed')).toBe('mixed');
  });

  it('is refused by a client that does not trust the certificate, and plain MQTT on the TLS port gets nowhere', async () => {
    const broker = await startTlsBroker();
    expect((await refusal(`mqtts://127.0.0.1:${broker.tlsPort}`)).message).toMatch(/self[- ]signed|unable to verify/i);
    expect(await refusal(`mqtt://127.0.0.1:${broker.tlsPort}`)).toBeInstanceOf(Error);
    // a refused handshake costs that client only
    const ok = await client(`mqtts://127.0.0.1:${broker.tlsPort}`, { ca: pair.cert });
    expect(ok.connected).toBe(true);
  });

  it('serves outside clients as docs/tls.md says: mosquitto_pub --cafile', async () => {
    const broker = await startTlsBroker();
    const sub = await client(`mqtts://127.0.0.1:${broker.tlsPort}`, { ca: pair.cert });
    await sub.subscribeAsync('remonitor/mosquitto/status', { qos: 1 });
    const got = new Promise<string>((resolve) => sub.once('message', (_t, p) => resolve(p.toString())));
    const pub = spawnProcess('/usr/bin/mosquitto_pub', [
      '-h',
      '127.0.0.1',
      '-p',
      String(broker.tlsPort),
      '--cafile',
      pair.certFile,
      '-V',
      'mqttv311',
      '-q',
      '1',
      '-t',
      'remonitor/mosquitto/status',
      '-m',
      'online',
    ]);
    expect((await pub.exited).code, pub.output()).toBe(0);
    expect(await got).toBe('online');
  });

  it('applies the per-IP admission at accept, before any handshake', async () => {
    const broker = await startTlsBroker({ limits: { ipLimitsOnLoopback: true, maxConnectionsPerIp: 2, connectTimeoutMs: 60_000 } });
    const sockets = await Promise.all([0, 1, 2].map(() => openSocket(broker.tlsPort)));
    cleanup(() => sockets.forEach((s) => s.destroy()));
    const open = await Promise.all(sockets.map((s) => Promise.race([closed(s).then(() => false), sleep(300).then(() => true)])));
    expect(open.filter(Boolean)).toHaveLength(2);
  });

  it('applies the packet size cap inside TLS: a client declaring a huge PUBLISH is cut off', async () => {
    const broker = await startTlsBroker({ limits: { maxPacketBytes: 64 * 1024 } });
    const socket = await new Promise<TLSSocket>((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.0.1', port: broker.tlsPort, ca: pair.cert }, () => resolve(s));
      s.once('error', reject);
    });
    cleanup(() => {
      socket.destroy();
    });
    socket.write(connectPacket('big-talker'));
    socket.write(publishHeader('remonitor/x/metrics', 200 * 1024 * 1024));
    socket.write(Buffer.alloc(64 * 1024));
    await closed(socket);
    expect(socket.destroyed).toBe(true);
  });

  it('measures the handshake cost against plain MQTT (printed, not asserted)', async () => {
    const broker = await startTlsBroker();
    const time = async (url: string, options: IClientOptions) => {
      const start = performance.now();
      for (let i = 0; i < 20; i++) (await mqtt.connectAsync(url, { ...CLIENT, ...options })).end(true);
      return (performance.now() - start) / 20;
    };
    await time(`mqtt://127.0.0.1:${broker.port}`, {}); // warm-up
    let plainMs = Infinity;
    let tlsMs = Infinity;
    for (let round = 0; round < 3; round++) {
      // best of 3 rounds, interleaved, so that another process's burst does not decide
      plainMs = Math.min(plainMs, await time(`mqtt://127.0.0.1:${broker.port}`, {}));
      tlsMs = Math.min(tlsMs, await time(`mqtts://127.0.0.1:${broker.tlsPort}`, { ca: pair.cert }));
    }
    console.log(
      `tls: connect+CONNACK ${plainMs.toFixed(2)} ms plain, ${tlsMs.toFixed(2)} ms mqtts (EC P-256, TLS 1.3, loopback), ×${(tlsMs / plainMs).toFixed(1)}`,
    );
    expect(tlsMs).toBeGreaterThan(0);
  });
});

describe('HTTPS and MQTT over secure WebSocket (web/server.ts with a certificate)', () => {
  it('serves /healthz over HTTPS and MQTT over wss:// on /mqtt', async () => {
    const store = openSqliteStore(join(tempDir(), 'tls.db'));
    cleanup(() => store.close());
    const web = await listen(createApp({ store, feed: new LiveFeed() }), 0, '127.0.0.1', pair);
    cleanup(() => web.close());
    expect(web.scheme).toBe('https');
    const broker = new EmbeddedBroker({ port: 0, log: quietLog });
    await broker.start();
    cleanup(() => broker.stop());
    broker.attachWebSocket(web.server);

    const health = await new Promise<{ status: number; body: string; authorized: boolean }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: web.port, path: '/healthz', ca: pair.cert }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        const authorized = (res.socket as TLSSocket).authorized;
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, authorized }));
      });
      req.once('error', reject);
      req.end();
    });
    expect(health).toEqual({ status: 200, body: '{"ok":true}', authorized: true });

    const url = `wss://127.0.0.1:${web.port}/mqtt`;
    const sub = await client(url, { ca: pair.cert });
    const pub = await client(url, { ca: pair.cert });
    expect(await roundTrip(sub, pub, 'remonitor/wss/metrics', 'over wss')).toBe('over wss');
    expect((await refusal(url)).message).toMatch(/self[- ]signed|unable to verify/i);
  });
});

describe('an agent with --ca', () => {
  it('publishes over mqtts to a hub, which stores its samples', async () => {
    const broker = await startTlsBroker();
    const { hub, api } = await startHub(`mqtt://127.0.0.1:${broker.port}`);
    const { values } = resolveOptions(
      agentSpec,
      ['--broker', `mqtts://127.0.0.1:${broker.tlsPort}`, '--ca', pair.certFile, '--node', 'tls-node', '--interval', '250ms'],
      {},
    );
    expect(Buffer.isBuffer(values.ca)).toBe(true);
    const agent = createAgent({ ...values, brokerUrl: values.broker, spoolDir: join(tempDir(), 'spool') }, quietLog);
    await agent.start();
    cleanup(() => agent.stop());
    await waitFor('3 samples of tls-node stored', async () => hub.ingest.stats.stored >= 3 && (await hub.store.listNodes()).some((n) => n.name === 'tls-node'));
    const { nodes } = (await (await fetch(`${api}/api/nodes`)).json()) as NodesResponse;
    expect(nodes.find((n) => n.name === 'tls-node')?.last_seen_ms).toBeGreaterThan(0);
  });

  it('works the same from the built single-file agent (node scripts/build.mjs first)', async () => {
    const broker = await startTlsBroker();
    const { hub } = await startHub(`mqtt://127.0.0.1:${broker.port}`);
    const agent = spawnProcess(process.execPath, [
      join(REPO, 'dist/remonitor-agent.mjs'),
      ...['--broker', `mqtts://127.0.0.1:${broker.tlsPort}`, '--ca', pair.certFile, '--node', 'tls-bundle', '--interval', '250ms'],
      ...['--spool-dir', join(tempDir(), 'spool')],
    ]);
    await agent.waitForLine(/connected to broker/);
    await waitFor('a sample of tls-bundle stored', async () => (await hub.store.listNodes()).find((n) => n.name === 'tls-bundle')?.last_seen_ms);
  });

  it('refuses a --ca file that is missing or not a certificate, naming it', () => {
    const bad = (ca: string) => () => resolveOptions(agentSpec, ['--ca', ca], {});
    expect(bad(join(dir, 'nope.crt'))).toThrow(/--ca: cannot read the file \(ENOENT\).*nope\.crt/s);
    expect(bad(pair.keyFile)).toThrow(/--ca: not a PEM certificate.*hub\.key/s);
  });
});
