// Per-identity credentials and topic ACLs against the real broker: a real auth.db in a temp dir,
// real mqtt.js clients over 127.0.0.1. Each attack is something a stolen or compromised node token
// (or no token at all) would try; the checks are what an operator would look at: what subscribers
// saw, and whether the attacker got in.
import { setTimeout as sleep } from 'node:timers/promises';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openAuthDb } from '../../auth/auth-db.ts';
import { MqttCredentials, type MqttRole } from '../../auth/mqtt-credentials.ts';
import { EmbeddedBroker } from '../../broker/broker.ts';
import type { BrokerLimits } from '../../broker/limits.ts';
import { topics } from '../../protocol/topics.ts';
import { cleanup, quietLog, runCleanups, tempDir, waitFor } from '../helpers/parts.ts';

afterEach(runCleanups);

interface World {
  url: string;
  dataDir: string;
  credentials: MqttCredentials;
  token: Record<string, string>;
}

let world: World;

async function startWorld(limits: Partial<BrokerLimits> = {}): Promise<World> {
  const dataDir = tempDir();
  const db = openAuthDb(dataDir);
  cleanup(() => {
    db.close();
  });
  const credentials = new MqttCredentials(db);
  const token: Record<string, string> = {};
  const enrol: [string, MqttRole][] = [
    ['A', 'node'],
    ['B', 'node'],
    ['hub', 'hub'],
    ['dash', 'viewer'],
    ['ops', 'operator'],
  ];
  for (const [name, role] of enrol) token[name] = credentials.add(name, role);
  const broker = new EmbeddedBroker({ port: 0, log: quietLog, credentials, limits });
  await broker.start();
  cleanup(() => broker.stop());
  return { url: `mqtt://127.0.0.1:${broker.port}`, dataDir, credentials, token };
}

const base: IClientOptions = { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5_000 };

/** Connects as `name` with its token (node names get the agent's client id), or throws. */
async function connectAs(name: string, extra: IClientOptions = {}): Promise<MqttClient> {
  const role = name === 'A' || name === 'B' ? 'node' : 'service';
  const clientId = role === 'node' ? `remonitor-agent-${name}` : `test-${name}-${Math.random().toString(36).slice(2, 8)}`;
  const client = await mqtt.connectAsync(world.url, { ...base, clientId, username: name, password: world.token[name], ...extra });
  cleanup(() => client.endAsync(true));
  return client;
}

/** The CONNACK return code a CONNECT gets: 0 accepted, 4/5 refused, null closed without CONNACK. */
function connackCode(options: IClientOptions): Promise<number | null> {
  return new Promise((resolve) => {
    const client = mqtt.connect(world.url, { ...base, ...options });
    cleanup(() => client.endAsync(true));
    client.once('connect', () => resolve(0));
    client.once('error', (err) => resolve((err as { code?: number }).code ?? null));
    client.once('close', () => resolve(null));
  });
}

/** Resolves once the broker closed `client`'s connection. */
function closedBy(client: MqttClient): Promise<void> {
  return new Promise((resolve) => (client.connected ? client.once('close', () => resolve()) : resolve()));
}

/** The SUBACK code for one filter: the granted QoS, or 0x80 (128) for refused; mqtt.js rejects with the SUBACK attached then. */
async function grantedCode(client: MqttClient, filter: string): Promise<number> {
  return client.subscribeAsync(filter).then(
    (granted) => granted[0]!.qos,
    (err: { packet?: { granted?: number[] } }) => err.packet?.granted?.[0] ?? -1,
  );
}

async function grantedCodes(client: MqttClient, filters: string[]): Promise<number[]> {
  const codes: number[] = [];
  for (const filter of filters) codes.push(await grantedCode(client, filter));
  return codes;
}

/** A subscriber that keeps every message it sees, as `topic payload`. */
async function recorder(client: MqttClient, filter: string): Promise<string[]> {
  const seen: string[] = [];
  client.on('message', (topic, payload) => seen.push(`${topic} ${payload.toString()}`));
  const granted = await client.subscribeAsync(filter, { qos: 1 });
  expect(granted[0]?.qos).toBe(1);
  return seen;
}

describe('a node with a valid token, attacking', () => {
  beforeEach(async () => {
    world = await startWorld();
  });

  it('cannot publish as another node, send itself commands, touch $SYS, squat a will or read other nodes; subscribers see only real data', async () => {
    const hub = await connectAs('hub');
    const seen = await recorder(hub, '#');
    const b = await connectAs('B');
    await b.publishAsync(topics.metrics('B'), 'real B 1', { qos: 1 });
    await b.publishAsync(topics.status('B'), 'online', { qos: 1, retain: true });
    await waitFor('B data at the hub', () => seen.includes(`${topics.metrics('B')} real B 1`));

    // Forged publishes: each one is dropped and costs the attacker its connection.
    for (const [topic, retain] of [
      [topics.metrics('B'), false],
      [topics.status('B'), true],
      [topics.cmd('A'), false],
      ['$SYS/x', false],
    ] as const) {
      const a = await connectAs('A');
      const closed = closedBy(a);
      a.publish(topic, 'forged', { qos: 1, retain });
      await closed;
    }
    // A will on B's status topic is refused at CONNECT: "not authorized".
    expect(
      await connackCode({
        clientId: 'remonitor-agent-A',
        username: 'A',
        password: world.token.A,
        will: { topic: topics.status('B'), payload: Buffer.from('forged'), qos: 1, retain: true },
      }),
    ).toBe(5);

    // Wildcards that would cover other nodes get SUBACK 0x80; the connection stays, and its own cmd is fine.
    const a = await connectAs('A');
    expect(await grantedCodes(a, ['#', topics.allNodes('cmd'), topics.cmd('B'), topics.metrics('B'), '$SYS/#', topics.cmd('A')])).toEqual([
      128, 128, 128, 128, 128, 0,
    ]);
    await a.publishAsync(topics.metrics('A'), 'real A', { qos: 1 });
    expect(a.connected).toBe(true);

    await b.publishAsync(topics.metrics('B'), 'real B 2', { qos: 1 });
    await waitFor('the last of B data', () => seen.includes(`${topics.metrics('B')} real B 2`));
    expect(seen.filter((m) => m.includes('forged'))).toEqual([]);
    expect(seen).toEqual(expect.arrayContaining([`${topics.metrics('A')} real A`, `${topics.metrics('B')} real B 1`]));

    // B's retained status is still B's own, for anyone who subscribes later.
    const later = await connectAs('dash');
    const retained = await recorder(later, topics.status('B'));
    await waitFor('the retained status', () => retained.length > 0);
    expect(retained).toEqual([`${topics.status('B')} online`]);
  });

  it('a node subscribed to its own cmd gets operator commands, but not commands forged through a wildcard', async () => {
    const a = await connectAs('A');
    const commands = await recorder(a, topics.cmd('A'));
    const ops = await connectAs('ops');
    await ops.publishAsync(topics.cmd('A'), 'ping', { qos: 1 });
    await waitFor('the command at A', () => commands.length > 0);
    expect(commands).toEqual([`${topics.cmd('A')} ping`]);
  });
});

describe('CONNECTs that are refused', () => {
  beforeEach(async () => {
    world = await startWorld();
  });

  it.each([
    ['wrong token', 4, () => ({ clientId: 'remonitor-agent-A', username: 'A', password: 'rmt_wrong' })],
    ["another node's token", 4, () => ({ clientId: 'remonitor-agent-A', username: 'A', password: world.token.B })],
    ['unknown name', 4, () => ({ clientId: 'remonitor-agent-Z', username: 'Z', password: 'rmt_x' })],
    ['anonymous', 4, () => ({ clientId: 'remonitor-agent-A' })],
    ['username without password', 4, () => ({ clientId: 'remonitor-agent-A', username: 'A' })],
  ] as [string, number, () => IClientOptions][])('%s → CONNACK %i (bad user name or password)', async (_what, code, options) => {
    expect(await connackCode(options())).toBe(code);
  });

  it('a client id that is not the node’s own → CONNACK 5 (not authorized); a viewer taking a node’s client id too', async () => {
    expect(await connackCode({ clientId: 'remonitor-agent-B', username: 'A', password: world.token.A })).toBe(5);
    expect(await connackCode({ clientId: 'B', username: 'A', password: world.token.A })).toBe(5);
    expect(await connackCode({ clientId: 'remonitor-agent-A', username: 'dash', password: world.token.dash })).toBe(5);
    expect(await connackCode({ clientId: 'A', username: 'dash', password: world.token.dash })).toBe(5); // an enrolled node's name
    expect(await connackCode({ clientId: 'A', username: 'A', password: world.token.A })).toBe(0); // its bare name is its own
  });

  it('a revoked node is refused; its name enrolled again gets a new token and the old one stays refused', async () => {
    const old = world.token.A!;
    expect(world.credentials.revoke('A')).toBe(true);
    expect(await connackCode({ clientId: 'remonitor-agent-A', username: 'A', password: old })).toBe(4);
    const fresh = world.credentials.add('A', 'node');
    expect(await connackCode({ clientId: 'remonitor-agent-A', username: 'A', password: old })).toBe(4);
    expect(await connackCode({ clientId: 'remonitor-agent-A', username: 'A', password: fresh })).toBe(0);
  });
});

describe('repeated failures from one address', () => {
  it('get the address blocked, valid token or not (per-IP limiter, turned on for loopback here)', async () => {
    world = await startWorld({ ipLimitsOnLoopback: true, maxFailedConnectsPerMinute: 3, failedConnectBlockMs: 60_000 });
    for (let i = 0; i < 4; i++) expect(await connackCode({ clientId: 'remonitor-agent-A', username: 'A', password: `rmt_guess${i}` })).toBe(4);
    await sleep(50); // the broker charges the 4th refusal as its CONNACK goes out
    expect(await connackCode({ clientId: 'remonitor-agent-A', username: 'A', password: world.token.A })).toBeNull();
  });
});

describe('revocation of a connected identity', () => {
  beforeEach(async () => {
    world = await startWorld();
  });

  it('disconnects its live session within a few seconds, leaving others connected', async () => {
    const a = await connectAs('A');
    const b = await connectAs('B');
    // Revoked from another connection to auth.db, as `remonitor node revoke` in another process would.
    const db = openAuthDb(world.dataDir);
    cleanup(() => {
      db.close();
    });
    expect(new MqttCredentials(db).revoke('A')).toBe(true);
    await Promise.race([closedBy(a), sleep(10_000).then(() => Promise.reject(new Error('A still connected 10 s after its revocation')))]);
    expect(b.connected).toBe(true);
    expect(await connackCode({ clientId: 'remonitor-agent-A', username: 'A', password: world.token.A })).toBe(4);
  });
});

describe('services', () => {
  beforeEach(async () => {
    world = await startWorld();
  });

  it('a viewer reads under remonitor/ but cannot publish, not even a command', async () => {
    const hub = await connectAs('hub');
    const seen = await recorder(hub, '#');
    const dash = await connectAs('dash');
    expect(await grantedCodes(dash, ['remonitor/#', '#', '$SYS/#'])).toEqual([0, 128, 128]);
    const closed = closedBy(dash);
    dash.publish(topics.cmd('A'), 'forged');
    await closed;
    const b = await connectAs('B');
    await b.publishAsync(topics.metrics('B'), 'sentinel', { qos: 1 });
    await waitFor('the sentinel', () => seen.length > 0);
    expect(seen).toEqual([`${topics.metrics('B')} sentinel`]);
  });

  it('an operator sends commands but cannot publish metrics', async () => {
    const hub = await connectAs('hub');
    const seen = await recorder(hub, topics.allNodes('metrics'));
    const ops = await connectAs('ops');
    await ops.publishAsync(topics.cmd('B'), 'ping', { qos: 1 });
    expect(ops.connected).toBe(true);
    const closed = closedBy(ops);
    ops.publish(topics.metrics('B'), 'forged');
    await closed;
    const b = await connectAs('B');
    await b.publishAsync(topics.metrics('B'), 'sentinel', { qos: 1 });
    await waitFor('the sentinel', () => seen.length > 0);
    expect(seen).toEqual([`${topics.metrics('B')} sentinel`]);
  });
});

describe('without credentials', () => {
  it('refuses to start on a host other than loopback, saying which and why', async () => {
    const broker = new EmbeddedBroker({ host: '0.0.0.0', port: 0, log: quietLog });
    await expect(broker.start()).rejects.toThrow(/without credentials on host "0\.0\.0\.0"/);
  });

  it('starts on localhost and lets anyone in, but for $SYS', async () => {
    const broker = new EmbeddedBroker({ host: 'localhost', port: 0, log: quietLog });
    await broker.start();
    cleanup(() => broker.stop());
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, base);
    cleanup(() => client.endAsync(true));
    await client.publishAsync(topics.metrics('A'), 'x', { qos: 1 });
    const closed = closedBy(client);
    client.publish('$SYS/x', 'forged');
    await closed;
  });
});

describe('retained cap', () => {
  it('keeps no new retained topic past the cap (delivered live only), and an empty payload frees a slot', async () => {
    const broker = new EmbeddedBroker({ port: 0, log: quietLog, limits: { maxRetained: 2 } });
    await broker.start();
    cleanup(() => broker.stop());
    const url = `mqtt://127.0.0.1:${broker.port}`;
    const publisher = await mqtt.connectAsync(url, base);
    cleanup(() => publisher.endAsync(true));
    const live: string[] = [];
    const watcher = await mqtt.connectAsync(url, base);
    cleanup(() => watcher.endAsync(true));
    watcher.on('message', (topic) => live.push(topic));
    await watcher.subscribeAsync(topics.allNodes('status'), { qos: 1 });
    for (const node of ['n1', 'n2', 'n3']) await publisher.publishAsync(topics.status(node), 'online', { qos: 1, retain: true });
    await waitFor('live delivery of all three', () => live.length === 3);

    /** Retained status topics a new subscriber gets: waits for `expected` of them, then a little for extras. */
    const retainedNow = async (expected: number): Promise<string[]> => {
      const c = await mqtt.connectAsync(url, base);
      const got: string[] = [];
      c.on('message', (topic, _p, packet) => packet.retain && got.push(topic));
      await c.subscribeAsync(topics.allNodes('status'), { qos: 1 });
      await waitFor(`${expected} retained messages`, () => got.length >= expected);
      await sleep(200); // room for an unexpected extra one to show up
      await c.endAsync(true);
      return got.sort();
    };
    expect(await retainedNow(2)).toEqual([topics.status('n1'), topics.status('n2')]);
    await publisher.publishAsync(topics.status('n1'), '', { qos: 1, retain: true }); // clears n1
    await publisher.publishAsync(topics.status('n3'), 'online', { qos: 1, retain: true });
    expect(await retainedNow(2)).toEqual([topics.status('n2'), topics.status('n3')]);
  });
});
