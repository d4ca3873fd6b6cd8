// The hub's MQTT connections (ingest, alarms, commands) are made alike: MQTT 3.1.1, a clean session
// under a fresh client id, reconnect every second, no Nagle delay on the socket.
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';

export interface HubMqttOptions {
  brokerUrl: string;
  username?: string;
  password?: string;
}

/** Connects (and keeps reconnecting) a hub client; `role` names it in the broker's client list. */
export function connectHubClient(role: string, { brokerUrl, username, password }: HubMqttOptions): MqttClient {
  const client = mqtt.connect(brokerUrl, {
    clientId: `remonitor-${role}-${randomBytes(4).toString('hex')}`,
    username,
    password,
    protocolVersion: 4, // MQTT 3.1.1: every broker we meet speaks it, Aedes 1.x only it
    clean: true,
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
