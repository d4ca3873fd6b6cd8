// The agent's life: connect with a last will, publish the birth record, sample on a timer,
// reconnect with backoff, and say `offline` on the way out.
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { encodeInfo, encodeSample, PROTOCOL_VERSION, topics, type NodeInfo, type Sample } from '../protocol/index.ts';
import { DEFAULT_BACKOFF, reconnectDelay, type BackoffPolicy } from './backoff.ts';
import type { Logger } from './logger.ts';
import type { Sampler } from './sampler.ts';

export interface AgentOptions {
  brokerUrl: string;
  node: string;
  intervalMs: number;
  /** The process list is read at most this often (it costs more than the rest together). */
  processIntervalMs: number;
  sampler: Sampler;
  birthRecord: () => Promise<NodeInfo>;
  log: Logger;
  username?: string;
  password?: string;
  backoff?: BackoffPolicy;
  /** Samples kept in memory while the broker is away, oldest dropped first (default 1 h at 1 s). */
  maxBacklog?: number;
}

export interface AgentStats {
  published: number;
  /** Samples dropped because the broker stayed away longer than the backlog holds. */
  droppedOffline: number;
  sampleErrors: number;
}

export class Agent {
  readonly bootId = randomBytes(8).toString('hex');
  readonly stats: AgentStats = { published: 0, droppedOffline: 0, sampleErrors: 0 };
  private client: MqttClient | null = null;
  private timer: NodeJS.Timeout | null = null;
  private seq = 0;
  private lastProcessesMs = -Infinity;
  private reconnectAttempt = 0;
  private stopping = false;
  private readonly backlog: Buffer[] = [];

  constructor(private readonly options: AgentOptions) {}

  async start(): Promise<void> {
    const { brokerUrl, node, log } = this.options;
    const backoff = this.options.backoff ?? DEFAULT_BACKOFF;
    const client = mqtt.connect(brokerUrl, {
      clientId: `remonitor-agent-${node}`,
      username: this.options.username,
      password: this.options.password,
      protocolVersion: 4, // MQTT 3.1.1: every broker we meet speaks it, Aedes 1.x only it
      clean: true,
      keepalive: 30,
      connectTimeout: 10_000,
      reconnectPeriod: reconnectDelay(0, backoff),
      will: { topic: topics.status(node), payload: Buffer.from('offline'), qos: 1, retain: true },
    });
    this.client = client;
    client.on('connect', () => {
      this.reconnectAttempt = 0;
      client.options.reconnectPeriod = reconnectDelay(0, backoff);
      log.info({ broker: brokerUrl, node, backlog: this.backlog.length }, 'connected to broker');
      void this.announce(client);
      this.drainBacklog(client);
    });
    client.on('close', () => {
      if (this.stopping) return;
      // mqtt.js reconnects after options.reconnectPeriod: grow it for the next attempt.
      client.options.reconnectPeriod = reconnectDelay(++this.reconnectAttempt, backoff);
      log.warn({ retryInMs: client.options.reconnectPeriod }, 'broker connection lost, reconnecting');
    });
    client.on('error', (err) => log.warn({ err: err.message }, 'mqtt error'));
    this.scheduleNext(0);
  }

  private async announce(client: MqttClient): Promise<void> {
    const { node, log } = this.options;
    try {
      await client.publishAsync(topics.status(node), 'online', { qos: 1, retain: true });
      const info = await this.options.birthRecord();
      await client.publishAsync(topics.info(node), Buffer.from(encodeInfo(info)), { qos: 1, retain: true });
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'could not publish status and birth record');
    }
  }

  /** Keeps a steady cadence: the next tick is planned from the intended time, not from when work ended. */
  private scheduleNext(delayMs: number): void {
    if (this.stopping) return;
    const due = Date.now() + delayMs;
    this.timer = setTimeout(() => {
      void this.tick().finally(() => this.scheduleNext(Math.max(0, due + this.options.intervalMs - Date.now())));
    }, delayMs);
  }

  private async tick(): Promise<void> {
    const { sampler, log, processIntervalMs } = this.options;
    const now = Date.now();
    const processes = now - this.lastProcessesMs >= processIntervalMs;
    let sample: Sample;
    try {
      const reading = await sampler.read({ processes });
      if (processes) this.lastProcessesMs = now;
      sample = { v: PROTOCOL_VERSION, boot: this.bootId, seq: this.seq++, ts_ms: now, ...reading };
    } catch (err) {
      if (this.stats.sampleErrors++ === 0) log.error({ err: (err as Error).message }, 'sampling failed');
      return;
    }
    this.backlog.push(Buffer.from(encodeSample(sample)));
    if (this.backlog.length > (this.options.maxBacklog ?? 3600)) {
      this.backlog.shift();
      if (this.stats.droppedOffline++ === 0) log.warn('broker away too long: dropping the oldest samples');
    }
    if (this.client?.connected) this.drainBacklog(this.client);
  }

  /** Publishes what is waiting, oldest first. */
  private drainBacklog(client: MqttClient): void {
    const topic = topics.metrics(this.options.node);
    for (const payload of this.backlog.splice(0)) {
      client.publish(topic, payload, { qos: 1 }, (err) => {
        if (err) this.options.log.warn({ err: err.message }, 'publish failed');
        else this.stats.published++;
      });
    }
  }

  /** Publishes `offline`, waits for in-flight messages, closes. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    const client = this.client;
    if (!client) return;
    if (client.connected) {
      await client.publishAsync(topics.status(this.options.node), 'offline', { qos: 1, retain: true }).catch(() => undefined);
    }
    await client.endAsync(!client.connected);
  }
}
