// Ingest's link to the fleet over MQTT: any broker, or a shared subscription group of an MQTT 5
// broker (`$share/<group>/…`) under a fixed client id with a persistent session. Holding the next
// PUBACK (mqtt.js handleMessage) makes the client read no further until ingest admits more.
import type { MqttClient } from 'mqtt';
import type { Logger } from '../../shared/logger.ts';
import { topics } from '../../protocol/index.ts';
import { FLEET_CHANNELS, type FleetHandlers, type FleetLink } from './fleet-link.ts';
import { connectHubClient, firstConnect } from '../hub-mqtt.ts';

export interface MqttFleetLinkOptions {
  brokerUrl: string;
  log: Logger;
  username?: string;
  password?: string;
  sharedGroup?: { group: string; clientId: string };
}

export class MqttFleetLink implements FleetLink {
  private client: MqttClient | null = null;

  constructor(private readonly options: MqttFleetLinkOptions) {}

  async start({ message, admit }: FleetHandlers): Promise<void> {
    const { brokerUrl, log } = this.options;
    const shared = this.options.sharedGroup;
    const client = connectHubClient('hub', { ...this.options, persistentId: shared?.clientId });
    this.client = client;
    client.on('message', (topic, payload) => message(topic, payload));
    client.handleMessage = (_packet, done) => admit(done);
    client.on('error', (err) => log.warn({ err: err.message }, 'hub mqtt error'));
    client.on('close', () => log.debug('hub lost the broker, reconnecting'));
    // Subscribe on every (re)connect: with a clean session the broker forgets subscriptions (and
    // with a persistent one, subscribing again changes nothing).
    const filter = (channel: (typeof FLEET_CHANNELS)[number]) => (shared ? `$share/${shared.group}/` : '') + topics.allNodes(channel);
    // Started once the first subscription is in place: in a shared group, the broker deals this
    // hub messages only from then on.
    let subscribed!: () => void;
    let refused!: (err: Error) => void;
    const firstSubscription = new Promise<void>((resolve, reject) => ((subscribed = resolve), (refused = reject)));
    firstSubscription.catch(() => undefined); // awaited below, unless the connection failed first
    client.on('connect', () => {
      client
        .subscribeAsync(Object.fromEntries(FLEET_CHANNELS.map((channel) => [filter(channel), { qos: 1 as const }])))
        .then((granted) => {
          const denied = granted.filter((g) => g.qos > 2);
          if (denied.length > 0) throw new Error(`the broker refused ${denied.map((g) => g.topic).join(', ')}`);
          log.info({ broker: brokerUrl, group: shared?.group }, 'hub subscribed to the fleet');
          subscribed();
        })
        .catch((err: Error) => {
          log.error({ err: err.message }, 'hub could not subscribe');
          refused(new Error(`hub: could not subscribe to the fleet on ${brokerUrl}: ${err.message}`)); // at start only: later, a settled promise ignores it
        });
    });
    await firstConnect(client, 'hub', brokerUrl).catch((err: Error) => {
      if (shared && /protocol version/i.test(err.message)) {
        throw new Error(
          `${err.message}: --shared-group needs an MQTT 5 broker (Mosquitto 2, EMQX, VerneMQ, HiveMQ); the embedded broker speaks MQTT 3.1.1 only`,
        );
      }
      throw err;
    });
    await firstSubscription;
  }

  publish(topic: string, payload: Buffer): void {
    const client = this.client;
    if (client?.connected) client.publish(topic, payload, { qos: 1 });
  }

  async stop(): Promise<void> {
    await this.client?.endAsync();
  }
}
