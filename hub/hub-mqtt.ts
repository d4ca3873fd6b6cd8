// The hub's MQTT connections (ingest, alarms, commands) are made alike: MQTT 3.1.1, a clean session
// under a fresh client id, reconnect every second, no Nagle delay on the socket. A worker of a
// shared-subscription group is the exception: MQTT 5 (shared subscriptions are an MQTT 5 feature),
// a fixed client id and a session the broker keeps while the worker restarts.
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';

export interface HubMqttOptions {
  brokerUrl: string;
  username?: string;
  password?: string;
  /** A fixed client id with a persistent MQTT 5 session, instead of a fresh id and a clean session. */
  persistentId?: string;
}

/** How long the broker keeps a persistent worker's session (and queues its messages) while it is away. */
const SESSION_EXPIRY_S = 3600;

/** Connects (and keeps reconnecting) a hub client; `role` names it in the broker's client list. */
export function connectHubClient(role: string, { brokerUrl, username, password, persistentId }: HubMqttOptions): MqttClient {
  const session = persistentId
    ? { clientId: persistentId, protocolVersion: 5 as const, clean: false, properties: { sessionExpiryInterval: SESSION_EXPIRY_S } }
    : // MQTT 3.1.1: every broker we meet speaks it, Aedes 1.x only it
      { clientId: `remonitor-${role}-${randomBytes(4).toString('hex')}`, protocolVersion: 4 as const, clean: true };
  const client = mqtt.connect(brokerUrl, {
    ...session,
    username,
    password,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
  });
  // Small messages that someone waits for (acks, replies): no delayed-ACK stall per hop.
  client.on('connect', () => (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true));
  return client;
}

/** Resolves on the first connection; rejects, naming `role` and the broker, on the first error. */
export function firstConnect(client: MqttClient, role: string, brokerUrl: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(new Error(`${role}: cannot connect to broker ${brokerUrl}: ${err.message}`));
    client.once('connect', () => {
      client.off('error', onError);
      resolve();
    });
    client.once('error', onError);
  });
}
