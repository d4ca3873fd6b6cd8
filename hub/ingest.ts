// Ingest: subscribe to the fleet, decode, validate, store in batches, and tell the live feed.
// A bad message is counted, logged at most once per node per minute, and dropped: it never stops
// ingest for anyone else.
import type { MqttClient } from 'mqtt';
import {
  decodeInfo,
  decodeSample,
  decodeSpoolReport,
  encodeAck,
  parseStatus,
  parseTopic,
  ProtocolError,
  topics,
} from '../protocol/index.ts';
import type { Logger } from '../edge-agent/logger.ts';
import { connectHubClient, firstConnect } from './hub-mqtt.ts';
import { toPoint } from './sample-point.ts';
import type { LiveFeed } from './live-feed.ts';
import type { IncomingSample, MetricsStore } from './store.ts';
import type { AckOut, AckTracker } from './ack-tracker.ts';

export interface IngestOptions {
  brokerUrl: string;
  store: MetricsStore;
  feed: LiveFeed;
  log: Logger;
  username?: string;
  password?: string;
  /** Writes are batched into one transaction this often (ms; 300 by default). */
  flushIntervalMs?: number;
  /** A batch this large is written at once (10,000 by default). */
  maxBatch?: number;
  /** Application acks (issue 5): watermarks saved with each batch, acks published after its commit. */
  acks?: AckTracker;
}

export interface IngestStats {
  received: number;
  stored: number;
  duplicates: number;
  rejected: number;
  /** Rejections by reason (the error message without the offending value). */
  rejectedByReason: Record<string, number>;
}

const REJECTION_LOG_INTERVAL_MS = 60_000;
const MAX_REASONS = 50;
// Each commit costs about 34 µs per node it touches (the node's latest record, its watermark, its
// samples' tail page, one fsync for all) beside about 10 µs per sample, and sends one ack per node:
// so batch by time, long enough that a busy hub sees several samples per node in one commit, short
// enough that a sample is stored well within a second. The cap bounds memory when the disk stalls.
const DEFAULT_FLUSH_INTERVAL_MS = 300;
const DEFAULT_MAX_BATCH = 10_000;

export class Ingest {
  readonly stats: IngestStats = { received: 0, stored: 0, duplicates: 0, rejected: 0, rejectedByReason: {} };
  private client: MqttClient | null = null;
  private batch: IncomingSample[] = [];
  /** Status and birth-record writes, made in the next batch's transaction (one fsync for all). */
  private nodeWrites: (() => void)[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly lastRejectionLog = new Map<string, number>();

  constructor(private readonly options: IngestOptions) {}

  /** Samples decoded and waiting for the next batch write (the queue depth on /metrics). */
  get pending(): number {
    return this.batch.length;
  }

  private get maxBatch(): number {
    return this.options.maxBatch ?? DEFAULT_MAX_BATCH;
  }

  async start(): Promise<void> {
    const { brokerUrl, log } = this.options;
    const client = connectHubClient('hub', this.options);
    this.client = client;
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    client.on('error', (err) => log.warn({ err: err.message }, 'hub mqtt error'));
    client.on('close', () => log.debug('hub lost the broker, reconnecting'));
    // Subscribe on every (re)connect: with a clean session the broker forgets subscriptions.
    client.on('connect', () => {
      client
        .subscribeAsync({
          [topics.allNodes('metrics')]: { qos: 1 },
          [topics.allNodes('status')]: { qos: 1 },
          [topics.allNodes('info')]: { qos: 1 },
        })
        .then(() => log.info({ broker: brokerUrl }, 'hub subscribed to the fleet'))
        .catch((err: Error) => log.error({ err: err.message }, 'hub could not subscribe'));
    });
    await firstConnect(client, 'hub', brokerUrl);
    this.timer = setInterval(() => this.flush(), this.options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS);
  }

  private onMessage(topic: string, payload: Buffer): void {
    const parsed = parseTopic(topic);
    if (!parsed) return this.reject('?', new ProtocolError(`topic "${topic}" is not remonitor/<node>/<channel>`));
    const { node, channel } = parsed;
    try {
      switch (channel) {
        case 'metrics': {
          this.stats.received++;
          const sample = decodeSample(payload);
          // The point once, for the store's columns and the live feed alike.
          this.batch.push({ node, sample, raw: payload, point: toPoint(sample) });
          if (this.batch.length >= this.maxBatch) this.flush();
          return;
        }
        case 'status': {
          const status = parseStatus(payload);
          if (!status) throw new ProtocolError(`status must be "online" or "offline", got ${payload.length} other bytes`);
          const atMs = Date.now();
          this.nodeWrites.push(() => this.options.store.setStatus(node, status, atMs));
          this.options.feed.publish({ type: 'status', node, status });
          return;
        }
        case 'info': {
          decodeInfo(payload); // refuses a malformed record before it is kept
          this.nodeWrites.push(() => this.options.store.setInfo(node, payload));
          const report = this.options.acks ? decodeSpoolReport(payload) : null;
          if (report) this.publishAcks([this.options.acks!.spoolReport(node, report)]);
          return;
        }
        default:
          return;
      }
    } catch (err) {
      if (err instanceof ProtocolError) this.reject(node, err);
      else this.options.log.error({ node, topic, err: (err as Error).message }, 'ingest failed for a message');
    }
  }

  private reject(node: string, err: ProtocolError): void {
    this.stats.rejected++;
    // The reason without the offending value, so that the counters stay few.
    // The decoder's own words go too: they carry offsets and sizes ("Unknown token 30") that would
    // fill the MAX_REASONS slots with one hostile sender's variants. The log line keeps them.
    let reason = err.message.replace(/, got .*$/s, '').replace(/not valid CBOR \(.*\)$/s, 'not valid CBOR').replace(/\[\d+\]/g, '[i]').replace(/\d+ bytes/, 'N bytes');
    if (!(reason in this.stats.rejectedByReason) && Object.keys(this.stats.rejectedByReason).length >= MAX_REASONS) reason = 'other';
    this.stats.rejectedByReason[reason] = (this.stats.rejectedByReason[reason] ?? 0) + 1;
    const now = Date.now();
    if (now - (this.lastRejectionLog.get(node) ?? -Infinity) >= REJECTION_LOG_INTERVAL_MS) {
      this.lastRejectionLog.set(node, now);
      this.options.log.warn({ node, err: err.message }, 'dropped a malformed message (logged once a minute per node)');
    }
  }

  /** Writes the pending batch in one transaction, then tells the live feed. */
  flush(): void {
    if (this.batch.length === 0 && this.nodeWrites.length === 0) return;
    const batch = this.batch;
    const nodeWrites = this.nodeWrites;
    this.batch = [];
    this.nodeWrites = [];
    try {
      const { store, acks } = this.options;
      // A status or birth record alone was one commit, so one fsync, each: a fleet coming online
      // stalled ingest for seconds. They ride in the samples' transaction now (in arrival order).
      const write = () => {
        for (const w of nodeWrites) w();
        return store.insertBatch(batch);
      };
      const { result, acks: toSend } = acks ? acks.commit(batch, write) : { result: write(), acks: [] };
      this.publishAcks(toSend);
      this.stats.stored += result.inserted;
      this.stats.duplicates += result.duplicates;
    } catch (err) {
      // Keep the samples for the next attempt (a locked or full database is usually transient).
      this.batch = batch.concat(this.batch);
      this.nodeWrites = nodeWrites.concat(this.nodeWrites);
      this.options.log.error({ err: (err as Error).message, pending: this.batch.length }, 'could not store a batch; will retry');
      return;
    }
    if (this.options.feed.size === 0) return;
    for (const { node, sample, point } of batch) {
      this.options.feed.publish({
        type: 'sample',
        node,
        point: point ?? toPoint(sample),
        sample,
        ...(sample.top_cpu
          ? { processes: { top_cpu: sample.top_cpu, top_mem: sample.top_mem ?? [], procs_total: sample.procs_total ?? null } }
          : {}),
      });
    }
  }

  /** Tells each agent what is committed; QoS 1, and a lost ack is only a later one. */
  private publishAcks(acks: AckOut[]): void {
    const client = this.client;
    if (!client?.connected) return;
    for (const { node, boot, next } of acks) client.publish(topics.ack(node), Buffer.from(encodeAck({ boot, next })), { qos: 1 });
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.flush();
    await this.client?.endAsync();
    this.flush(); // what arrived while the client closed (a last status or birth record)
  }
}
