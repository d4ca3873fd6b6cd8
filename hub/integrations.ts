// What the hub publishes back to the broker for other tools: the JSON mirror and Home Assistant
// discovery. Both off by default; Home Assistant needs the mirror (its state topic), so turning it
// on turns the mirror on. One MQTT client serves both.
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from '../edge-agent/logger.ts';
import { HomeAssistantDiscovery } from './home-assistant.ts';
import { JsonMirror } from './json-mirror.ts';
import type { LiveFeed } from './live-feed.ts';
import type { AnyMetricsStore } from './async-store.ts';

export interface IntegrationOptions {
  brokerUrl: string;
  username?: string;
  password?: string;
  store: AnyMetricsStore;
  feed: LiveFeed;
  log: Logger;
  jsonMirror?: boolean;
  homeAssistant?: boolean;
}

export class Integrations {
  private client: MqttClient | null = null;
  private mirror: JsonMirror | null = null;
  private discovery: HomeAssistantDiscovery | null = null;

  constructor(private readonly options: IntegrationOptions) {}

  get enabled(): boolean {
    return Boolean(this.options.jsonMirror || this.options.homeAssistant);
  }

  async start(): Promise<void> {
    if (!this.enabled) return;
    const { brokerUrl, log, store, feed } = this.options;
    const client = await mqtt.connectAsync(brokerUrl, {
      clientId: `remonitor-hub-out-${randomBytes(4).toString('hex')}`,
      username: this.options.username,
      password: this.options.password,
      protocolVersion: 4,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      // The mirror is a live view: while the broker is away its QoS 0 messages are dropped, not
      // queued in memory for a replay nobody asked for.
      queueQoSZero: false,
    });
    client.on('error', (err) => log.warn({ err: err.message }, 'hub publisher mqtt error'));
    this.client = client;
    this.mirror = new JsonMirror(client, feed, log.child({ part: 'json-mirror' }));
    this.mirror.start();
    if (this.options.homeAssistant) {
      this.discovery = new HomeAssistantDiscovery(client, store, feed, log.child({ part: 'home-assistant' }));
      await this.discovery.start();
    }
    log.info({ jsonMirror: true, homeAssistant: Boolean(this.options.homeAssistant) }, 'publishing for other tools');
  }

  async stop(): Promise<void> {
    this.discovery?.stop();
    this.mirror?.stop();
    await this.client?.endAsync();
    this.client = null;
  }
}
