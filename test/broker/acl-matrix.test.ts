// Every MQTT role against every topic action, on the real broker: a real auth.db with one identity
// of each role (MQTT_ROLES), real mqtt.js clients over 127.0.0.1, and every channel of the
// protocol (CHANNELS) on the identity's own node and another, plus the JSON mirror, Home
// Assistant's state, discovery and birth topics, another root, `$SYS` and the wildcards. What each
// role may do is README's Security section, written out in `documented` below; the pure rules
// (broker/acl.ts) and the broker must both agree with it.
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAuthDb } from '../../auth/auth-db.ts';
import { MQTT_ROLES, MqttCredentials, type MqttIdentity, type MqttRole } from '../../auth/mqtt-credentials.ts';
import { mayPublish, maySubscribe, mayWill } from '../../broker/acl.ts';
import { EmbeddedBroker } from '../../broker/broker.ts';
import { CHANNELS, TOPIC_ROOT, topics } from '../../protocol/topics.ts';
import { cleanup, quietLog, runCleanups, tempDir } from '../helpers/parts.ts';

afterAll(runCleanups);

type Action = 'publish' | 'subscribe' | 'will';

/** One identity per role; the node is A, and B is another node. */
const IDENTITY: Record<MqttRole, MqttIdentity> = {
  node: { name: 'A', role: 'node' },
  viewer: { name: 'dash', role: 'viewer' },
  operator: { name: 'ops', role: 'operator' },
  hub: { name: 'hub', role: 'hub' },
  'home-assistant': { name: 'homeassistant', role: 'home-assistant' },
};

const NODE_TOPICS = CHANNELS.flatMap((channel) => ['A', 'B'].map((node) => `${TOPIC_ROOT}/${node}/${channel}`));
const HA_TOPICS = ['remonitor/A/ha/state', 'homeassistant/device/remonitor_A/config', 'homeassistant/sensor/A/config', 'homeassistant/status'];
const TOPICS = [...NODE_TOPICS, topics.metricsJson('A'), ...HA_TOPICS, '$SYS/broker/x'];
const FILTERS = [
  ...TOPICS,
  `${TOPIC_ROOT}/#`,
  ...CHANNELS.map((c) => topics.allNodes(c)),
  `${TOPIC_ROOT}/A/#`,
  `${TOPIC_ROOT}/A/+`,
  '#',
  '+/A/cmd',
  '+/status',
  '$SYS/#',
  'homeassistant/#',
  'homeassistant/+/+/config',
  `${TOPIC_ROOT}/+/ha/state`,
];

/**
 * README, Security: a node "may publish only remonitor/NAME/{metrics,json,status,info,reply,procs},
 * subscribe only to its own cmd and ack, and leave a last will only on its own status"; a viewer
 * "may read remonitor/#"; an operator "may also send commands" (and publishes sessions, for
 * `remonitor record`); the hub, a separate hub process, publishes and reads anything but the
 * broker's own `$` topics, which it may read; home-assistant "reads remonitor/# and
 * homeassistant/#, and publishes, and leaves its last will, only on homeassistant/status".
 * Nobody publishes to `$` topics [MQTT-4.7.2-1].
 */
function documented(role: MqttRole, action: Action, topic: string): boolean {
  const [root, node, channel, ...rest] = topic.split('/');
  const nodeTopic = root === TOPIC_ROOT && rest.length === 0 && channel !== undefined ? { node, channel } : null;
  const underRoot = topic.startsWith(`${TOPIC_ROOT}/`);
  switch (role) {
    case 'node':
      if (nodeTopic?.node !== 'A') return false;
      if (action === 'publish') return ['metrics', 'json', 'status', 'info', 'reply', 'procs'].includes(nodeTopic.channel);
      if (action === 'subscribe') return ['cmd', 'ack'].includes(nodeTopic.channel);
      return nodeTopic.channel === 'status';
    case 'viewer':
      return action === 'subscribe' && underRoot;
    case 'operator':
      if (action === 'subscribe') return underRoot;
      return action === 'publish' && nodeTopic !== null && ['cmd', 'procs'].includes(nodeTopic.channel);
    case 'hub':
      return action === 'subscribe' || !topic.startsWith('$');
    case 'home-assistant':
      if (action === 'subscribe') return underRoot || topic.startsWith('homeassistant/');
      return topic === 'homeassistant/status';
  }
}

const CASES = MQTT_ROLES.flatMap((role) => [
  ...TOPICS.map((topic) => ({ role, action: 'publish' as const, topic })),
  ...FILTERS.map((topic) => ({ role, action: 'subscribe' as const, topic })),
  ...TOPICS.map((topic) => ({ role, action: 'will' as const, topic })),
]);

describe('the rules (broker/acl.ts)', () => {
  it.each(CASES)('$role $action $topic', ({ role, action, topic }) => {
    const may = action === 'publish' ? mayPublish : action === 'subscribe' ? maySubscribe : mayWill;
    expect(may(IDENTITY[role], topic)).toBe(documented(role, action, topic));
  });
});

describe('the broker', () => {
  let url: string;
  const token = {} as Record<MqttRole, string>;
  const base: IClientOptions = { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5_000 };
  const options = (role: MqttRole): IClientOptions => ({
    ...base,
    clientId: role === 'node' ? 'remonitor-agent-A' : `matrix-${role}-${Math.random().toString(36).slice(2, 8)}`,
    username: IDENTITY[role].name,
    password: token[role],
  });

  beforeAll(async () => {
    const dataDir = tempDir();
    const db = openAuthDb(dataDir);
    cleanup(() => {
      db.close();
    });
    const credentials = new MqttCredentials(db);
    for (const role of MQTT_ROLES) token[role] = credentials.add(IDENTITY[role].name, role);
    credentials.add('B', 'node');
    const broker = new EmbeddedBroker({ port: 0, log: quietLog, credentials });
    await broker.start();
    cleanup(() => broker.stop());
    url = `mqtt://127.0.0.1:${broker.port}`;
  });

  async function connect(role: MqttRole, extra: IClientOptions = {}): Promise<MqttClient> {
    const client = await mqtt.connectAsync(url, { ...options(role), ...extra });
    cleanup(() => client.endAsync(true));
    return client;
  }

  /** A QoS 1 publish is allowed when PUBACK comes back; a denied one costs the connection. */
  function published(client: MqttClient, topic: string): Promise<boolean> {
    return new Promise((resolve, reject) => {
      const settle = (allowed: boolean | Error) => {
        clearTimeout(timer);
        client.off('close', onClose);
        if (allowed instanceof Error) reject(allowed);
        else resolve(allowed);
      };
      const onClose = () => settle(false);
      const timer = setTimeout(() => settle(new Error(`publish to ${topic}: neither PUBACK nor close within 5 s`)), 5_000);
      client.once('close', onClose);
      client.publish(topic, 'x', { qos: 1 }, (err) => {
        if (!err) settle(true);
      });
    });
  }

  /** CONNACK code of a CONNECT with a will on `topic`: 0 accepted, 5 not authorised. */
  function willCode(role: MqttRole, topic: string): Promise<number | null> {
    return new Promise((resolve) => {
      const client = mqtt.connect(url, { ...options(role), will: { topic, payload: Buffer.from('offline'), qos: 1, retain: false } });
      const done = (code: number | null) => {
        client.end(true);
        resolve(code);
      };
      client.once('connect', () => done(0));
      client.once('error', (err) => done((err as { code?: number }).code ?? null));
      client.once('close', () => done(null));
    });
  }

  it.each(MQTT_ROLES)('%s: every topic action as documented', async (role) => {
    const seen: Record<Action, Record<string, boolean>> = { publish: {}, subscribe: {}, will: {} };
    const expected: Record<Action, Record<string, boolean>> = { publish: {}, subscribe: {}, will: {} };
    for (const c of CASES.filter((c) => c.role === role)) expected[c.action][c.topic] = documented(role, c.action, c.topic);

    let client = await connect(role);
    for (const topic of TOPICS) {
      if (!client.connected) client = await connect(role);
      seen.publish[topic] = await published(client, topic);
    }
    client = client.connected ? client : await connect(role);
    for (const filter of FILTERS) {
      const code = await client.subscribeAsync(filter, { qos: 1 }).then(
        (granted) => granted[0]!.qos,
        (err: { packet?: { granted?: number[] } }) => err.packet?.granted?.[0] ?? -1,
      );
      seen.subscribe[filter] = code !== 128;
    }
    await client.endAsync(true);
    for (const topic of TOPICS) seen.will[topic] = (await willCode(role, topic)) === 0;
    expect(seen).toEqual(expected);
  });
});
