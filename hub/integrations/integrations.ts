// What the hub publishes back to the broker for other tools: the JSON mirror of every sample
// (`--json-mirror`, for Node-RED and scripts) and Home Assistant's discovery and rate-limited state
// (`--home-assistant`). Both off by default and independent of each other; one MQTT client serves
// both. Home Assistant's birth message (`online` on `homeassistant/status`) has the hub send
// discovery and states again, as HA expects after its restart.
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { parseTopic, topics } from '../../protocol/index.ts';
import { haTopics } from '../../protocol/home-assistant-topics.ts';
import type { Logger } from '../../shared/logger.ts';
import { HomeAssistantDiscovery } from './home-assistant.ts';
import { DEFAULT_HA_INTERVAL_MS, HomeAssistantStates } from './home-assistant-states.ts';
import { JsonMirror } from './json-mirror.ts';
import type { LiveFeed } from '../live-feed.ts';
import type { AnyMetricsStore } from '../storage/async-store.ts';

/**
 * Births closer together than this (HA restarting in a loop, or any client with the right to
 * publish there) cost one re-send: everything is retained, so a later one loses nothing.
 */
const REDISCOVERY_GAP_MS = 10_000;

export interface IntegrationOptions {
  brokerUrl: string;
  username?: string;
  password?: string;
  store: AnyMetricsStore;
  feed: LiveFeed;
  log: Logger;
  jsonMirror?: boolean;
  homeAssistant?: boolean;
  /** How often Home Assistant gets new sample values, ms (default 30 s). */
  homeAssistantIntervalMs?: number;
}

export class Integrations {
  private client: MqttClient | null = null;
  private mirror: JsonMirror | null = null;
  private discovery: HomeAssistantDiscovery | null = null;
  private states: HomeAssistantStates | null = null;
  private lastResendMs = 0;
  private resendTimer: NodeJS.Timeout | null = null;

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
    if (this.options.jsonMirror) {
      this.mirror = new JsonMirror(client, feed, log.child({ part: 'json-mirror' }));
      this.mirror.start();
    }
    if (this.options.homeAssistant) {
      const haLog = log.child({ part: 'home-assistant' });
      this.discovery = new HomeAssistantDiscovery(client, store, feed, haLog);
      this.states = new HomeAssistantStates(client, store, feed, haLog, this.options.homeAssistantIntervalMs ?? DEFAULT_HA_INTERVAL_MS);
      client.on('message', (topic, payload) => this.onMessage(topic, payload));
      // Before the states start, so that the retained alarm sets can go out with the first states.
      // Resubscribed by mqtt.js after a reconnect.
      await client.subscribeAsync([haTopics.status, topics.allNodes('alarms')], { qos: 1 });
      await this.discovery.start();
      await this.states.start();
    }
    log.info({ jsonMirror: Boolean(this.options.jsonMirror), homeAssistant: Boolean(this.options.homeAssistant) }, 'publishing for other tools');
  }

  private onMessage(topic: string, payload: Buffer): void {
    if (topic === haTopics.status) {
      if (payload.toString('utf8').trim() === 'online') this.resendForHomeAssistant();
      return;
    }
    const parsed = parseTopic(topic);
    if (parsed?.channel === 'alarms') this.states?.onAlarms(parsed.node, payload);
  }

  /** Discovery and states again, now, or once the gap since the last re-send has passed. */
  private resendForHomeAssistant(): void {
    if (this.resendTimer) return;
    const waitMs = Math.max(0, this.lastResendMs + REDISCOVERY_GAP_MS - Date.now());
    this.resendTimer = setTimeout(() => {
      this.resendTimer = null;
      this.lastResendMs = Date.now();
      this.options.log.info('home assistant started: sending discovery and states again');
      this.discovery
        ?.announceAll()
        .then(() => this.states?.publishAll())
        .catch((err: Error) => this.options.log.warn({ err: err.message }, 'could not send home assistant discovery again'));
    }, waitMs);
    this.resendTimer.unref();
  }

  async stop(): Promise<void> {
    if (this.resendTimer) clearTimeout(this.resendTimer);
    this.resendTimer = null;
    this.discovery?.stop();
    this.states?.stop();
    this.mirror?.stop();
    await this.client?.endAsync();
    this.client = null;
  }
}
