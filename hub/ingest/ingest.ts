// Ingest: take the fleet's messages, decode, validate, store in batches, and tell the live feed.
// A bad message is counted, logged at most once per node per minute, and dropped: it never stops
// ingest for anyone else.
import {
  type SpoolReport,
  decodeInfo,
  decodeSample,
  decodeSampleJson,
  decodeSpoolReport,
  encodeAck,
  encodeSample,
  parseStatus,
  parseTopic,
  PROTOCOL_VERSION,
  ProtocolError,
  topics,
  type Sample,
} from '../../protocol/index.ts';
import type { Logger } from '../../shared/logger.ts';
import type { FleetLink } from './fleet-link.ts';
import { toPoint } from '../storage/sample-point.ts';
import { sampleEvent, type LiveFeed } from '../live-feed.ts';
import { PackedSamplesBuilder, type PackedSamples } from '../storage/packed-samples.ts';
import type { AckOut } from './ack-tracker.ts';
import { AckPacer } from './ack-pacer.ts';
import { SampleClocks } from './sample-time.ts';
import { AssignedIdentities } from './assigned-identity.ts';
import type { NodeWrite, SampleWriter, StoredBatch } from '../storage/sample-writer.ts';
import type { WriteHealth } from '../hub-health.ts';

export interface IngestOptions {
  /** Where the fleet's messages come from and acks go: MQTT, or the embedded broker in this process. */
  link: FleetLink;
  /** Stores each batch, with its acks (hub/storage/sample-writer.ts). */
  writer: SampleWriter;
  feed: LiveFeed;
  log: Logger;
  /** The hub's clock, which each sample's ts_ms is checked against (hub/ingest/sample-time.ts). Default Date.now. */
  now?: () => number;
  /** Writes are batched into one transaction this often (ms; 300 by default). */
  flushIntervalMs?: number;
  /** A batch this large is written at once (10,000 by default). */
  maxBatch?: number;
  /** Each node is acked at most this often (ms; 5,000 by default, hub/ingest/ack-pacer.ts); 0 acks after every commit. */
  ackIntervalMs?: number;
  /**
   * Told of each write that fails and each that succeeds: hub/hub-health.ts reports a failing store
   * on /healthz and logs it once a minute. Without it, each failure is logged here.
   */
  writeHealth?: WriteHealth;
}

/** One transaction's worth: samples with the status and birth records that arrived among them. */
interface Write {
  samples: PackedSamples;
  nodeWrites: NodeWrite[];
}

export interface IngestStats {
  received: number;
  stored: number;
  duplicates: number;
  /** Samples stored at another time than their ts_ms: the node's clock was off, or impossible (hub/ingest/sample-time.ts). */
  timeCorrected: number;
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
// Past this many batches waiting for a write in flight, the hub stops taking messages (it holds the
// next PUBACK, so the broker sends no further until then) rather than pile samples up in memory.
const HIGH_WATER_BATCHES = 2;
const DEFAULT_ACK_INTERVAL_MS = 5000;

export class Ingest {
  readonly stats: IngestStats = { received: 0, stored: 0, duplicates: 0, timeCorrected: 0, rejected: 0, rejectedByReason: {} };
  /** Samples packed as they arrive, for the next write. */
  private batch = new PackedSamplesBuilder();
  /** Status and birth-record writes, made in the next batch's transaction (one fsync for all). */
  private nodeWrites: NodeWrite[] = [];
  /** A write that failed, tried again at the next flush before anything else. */
  private retry: Write | null = null;
  /** The write in flight (on SQLite's writer thread, or to PostgreSQL); one at a time. */
  private writing: Promise<void> | null = null;
  /** PUBACKs held back while too much waits for the store; released after each write. */
  private held: (() => void)[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly lastRejectionLog = new Map<string, number>();
  private readonly acks: AckPacer;
  private readonly storedListeners = new Set<(samples: PackedSamples) => void>();
  private readonly clocks = new SampleClocks();
  private readonly identities = new AssignedIdentities();
  private readonly now: () => number;

  constructor(private readonly options: IngestOptions) {
    this.acks = new AckPacer((ack) => this.publishAck(ack), options.ackIntervalMs ?? DEFAULT_ACK_INTERVAL_MS);
    this.now = options.now ?? Date.now;
  }

  /** Samples decoded and waiting for a write (the queue depth on /metrics). */
  get pending(): number {
    return this.batch.length + (this.retry?.samples.length ?? 0);
  }

  private get maxBatch(): number {
    return this.options.maxBatch ?? DEFAULT_MAX_BATCH;
  }

  async start(): Promise<void> {
    await this.options.link.start({
      message: (topic, payload) => this.onMessage(topic, payload),
      admit: (done) => (this.batch.length < this.maxBatch * HIGH_WATER_BATCHES ? done() : this.held.push(done)),
    });
    this.timer = setInterval(() => this.flush(), this.options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS);
  }

  private onMessage(topic: string, payload: Buffer): void {
    const parsed = parseTopic(topic);
    if (!parsed) return this.reject('?', new ProtocolError(`topic "${topic}" is not remonitor/<node>/<channel>`));
    const { node, channel } = parsed;
    if (payload.length === 0 && channel !== 'metrics' && channel !== 'json') return; // a retained message being cleared (a node removed)
    try {
      switch (channel) {
        case 'metrics': {
          this.stats.received++;
          const receivedMs = this.now();
          return this.take(node, decodeSample(payload), payload, receivedMs);
        }
        case 'json': {
          this.stats.received++;
          const receivedMs = this.now();
          const sample = this.identified(node, decodeSampleJson(payload), receivedMs);
          return this.take(node, sample, null, receivedMs);
        }
        case 'status': {
          const status = parseStatus(payload);
          if (!status) throw new ProtocolError(`status must be "online" or "offline", got ${payload.length} other bytes`);
          const atMs = Date.now();
          this.nodeWrites.push({ node, kind: 'status', status, atMs });
          this.options.feed.publish({ type: 'status', node, status });
          return;
        }
        case 'info': {
          decodeInfo(payload); // refuses a malformed record before it is kept
          this.nodeWrites.push({ node, kind: 'info', raw: payload });
          const report = decodeSpoolReport(payload);
          if (report) this.recordSpoolReport(node, report);
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

  /** Stores a checked sample: placed in time, batched, told to the live feed. `raw` is its CBOR when it came so. */
  private take(node: string, sample: Sample, raw: Uint8Array | null, receivedMs: number): void {
    const historical = !!sample.historical;
    const placed = this.clocks.place(node, { tsMs: sample.ts_ms, receivedMs, historical, ageMs: sample.age_ms });
    if (placed.tsMs !== sample.ts_ms) {
      // Stored, charted, judged and kept as the node's latest record at the corrected time.
      sample = { ...sample, ts_ms: placed.tsMs };
      raw = null;
      this.stats.timeCorrected++;
    }
    const skewMs = historical ? null : placed.skewMs;
    // The point once, for the store's columns and the live feed alike.
    const point = toPoint(sample);
    if (!this.batch.add(node, sample, point, raw ?? encodeSample(sample), { receivedMs, skewMs })) {
      this.stats.duplicates++; // a copy of a sample already in this batch
      return;
    }
    // Listeners hear of a sample as it arrives rather than after its commit: kept until then,
    // every decoded sample outlived V8's young generation, and the copying took a third of the thread.
    if (this.options.feed.size > 0) {
      const event = sampleEvent(node, sample, point);
      if (skewMs !== null && event.type === 'sample') event.clock_skew_s = skewMs / 1000;
      this.options.feed.publish(event);
    }
    if (this.batch.length >= this.maxBatch) this.flush();
  }

  /**
   * A JSON sample made whole: without boot and seq the hub assigns them (hub/ingest/assigned-identity.ts),
   * and says so once per node; without ts_ms it was taken as it arrived; without v it is this version.
   */
  private identified(node: string, json: Partial<Sample>, receivedMs: number): Sample {
    let { boot, seq } = json;
    if (boot === undefined || seq === undefined) {
      const assigned = this.identities.assign(node);
      ({ boot, seq } = assigned);
      if (assigned.first)
        this.options.log.info({ node, boot }, 'a JSON sample came without boot and seq: the hub assigns them for this node (no replay, no deduplication)');
    }
    return { ...json, v: json.v ?? PROTOCOL_VERSION, boot, seq, ts_ms: json.ts_ms ?? receivedMs };
  }

  private reject(node: string, err: ProtocolError): void {
    this.stats.rejected++;
    // The reason without the offending value, so that the counters stay few.
    // The decoder's own words go too: they carry offsets and sizes ("Unknown token 30") that would
    // fill the MAX_REASONS slots with one hostile sender's variants. The log line keeps them.
    let reason = err.message
      .replace(/, got .*$/s, '')
      .replace(/not valid (CBOR|JSON) \(.*\)$/s, 'not valid $1')
      .replace(/\[\d+\]/g, '[i]')
      .replace(/\d+ bytes/, 'N bytes');
    if (!(reason in this.stats.rejectedByReason) && Object.keys(this.stats.rejectedByReason).length >= MAX_REASONS) reason = 'other';
    this.stats.rejectedByReason[reason] = (this.stats.rejectedByReason[reason] ?? 0) + 1;
    const now = Date.now();
    if (now - (this.lastRejectionLog.get(node) ?? -Infinity) >= REJECTION_LOG_INTERVAL_MS) {
      this.lastRejectionLog.set(node, now);
      this.options.log.warn({ node, err: err.message }, 'dropped a malformed message (logged once a minute per node)');
    }
  }

  /** Writes a failed batch again, or else what arrived since the last write, in one transaction (one write in flight). */
  flush(): void {
    if (this.writing) return;
    let write = this.retry;
    this.retry = null;
    if (!write) {
      if (this.batch.length === 0 && this.nodeWrites.length === 0) return;
      write = { samples: this.batch.build(), nodeWrites: this.nodeWrites };
      this.batch = new PackedSamplesBuilder();
      this.nodeWrites = [];
    }
    const attempt = write;
    this.writing = Promise.resolve()
      .then(() => this.options.writer.write(attempt.samples, attempt.nodeWrites))
      .then(
        (stored) => this.stored(attempt, stored),
        (err: Error) => this.keepForRetry(attempt, err),
      )
      .finally(() => {
        this.writing = null;
        if (this.batch.length >= this.maxBatch) this.flush();
        this.releaseHeld();
      });
  }

  /** Reads from the broker again once a write has finished (or failed: then the backlog is shed). */
  private releaseHeld(): void {
    for (const done of this.held.splice(0)) done();
  }

  /** Hears of every batch once it is committed (bench/hub-ingest.ts times sample → stored with it). */
  onStored(listener: (samples: PackedSamples) => void): () => void {
    this.storedListeners.add(listener);
    return () => this.storedListeners.delete(listener);
  }

  private stored(write: Write, { inserted, duplicates, acks }: StoredBatch): void {
    this.options.writeHealth?.stored();
    this.acks.offer(acks.filter((ack) => !this.identities.made(ack.boot)));
    this.stats.stored += inserted;
    this.stats.duplicates += duplicates;
    for (const listener of this.storedListeners) listener(write.samples);
  }

  /**
   * Keeps a failed write for the next attempt (a locked, full or restarting database is usually
   * transient). Meanwhile the batch grows only to the high-water mark: then the broker holds the
   * rest, and past it the agents' spools.
   */
  private keepForRetry(write: Write, err: Error): void {
    this.retry = write;
    if (this.options.writeHealth) this.options.writeHealth.failed(err);
    else this.options.log.error({ err: err.message, pending: this.pending }, 'could not store a batch; will retry');
  }

  private recordSpoolReport(node: string, report: SpoolReport): void {
    Promise.resolve()
      .then(() => this.options.writer.spoolReport(node, report))
      .then(
        // At once: an agent that just (re)connected learns where the hub stands.
        (ack) => ack && this.acks.sendAtOnce(ack),
        (err: Error) => this.options.log.error({ node, err: err.message }, "could not record an agent's spool report"),
      );
  }

  /** Tells an agent what is committed; QoS 1, and a lost ack is only a later one. */
  private publishAck({ node, boot, next }: AckOut): void {
    this.options.link.publish(topics.ack(node), Buffer.from(encodeAck({ boot, next })));
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.drain();
    this.acks.flush(); // what is stored is acked before the link closes
    await this.options.link.stop();
    await this.drain(); // what arrived while the client closed (a last status or birth record)
  }

  /** Writes everything pending, waiting for a write in flight first. */
  private async drain(): Promise<void> {
    await this.writing;
    this.flush();
    await this.writing;
  }
}
