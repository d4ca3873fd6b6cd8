// Store-and-forward between the spool and the broker: every sample is spooled first (while the link
// is up, in the spool's live tail, unsynced: edge-agent/spool.ts), then sent live (QoS 0); what the hub has not acknowledged is sent again, oldest first, at a
// bounded rate and with a bounded number of messages in flight (QoS 1), marked `historical`. Live samples never wait
// behind the backlog.
import type { MqttClient } from 'mqtt';
import { decodeAck, decodeSample, encodeSample, ProtocolError, topics, type Sample, type SpoolReport } from '../protocol/index.ts';
import type { Logger } from '../shared/logger.ts';
import type { Spool } from './spool.ts';

export interface ReplayerOptions {
  spool: Spool;
  node: string;
  log: Logger;
  /** Backlog samples sent per second at most (default 200). */
  replayPerSecond?: number;
  /** Backlog messages awaiting the broker's PUBACK at most (default 32). */
  maxInFlight?: number;
  /**
   * No progress of the hub's ack for this long, with samples sent and unacknowledged, means they
   * were lost on the way (the hub restarted behind a broker that stayed up): send them again.
   */
  ackTimeoutMs?: number;
  /** Called when the spool dropped samples over its cap, or gave up seqs a power cut left unknown, so the agent can report it. */
  onDropped?: (count: number) => void;
}

export interface ReplayerStats {
  live: number;
  replayed: number;
  rewinds: number;
  acks: number;
}

/** Pace of the backlog pump while there is backlog to send. */
const TICK_MS = 50;

/** The monotonic clock, ms (Linux: CLOCK_MONOTONIC, from the machine's boot): no clock step moves it. */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint() / 1_000_000n);
}

export class Replayer {
  readonly stats: ReplayerStats = { live: 0, replayed: 0, rewinds: 0, acks: 0 };
  private client: MqttClient | null = null;
  /** Bumped on every attach/detach, so callbacks of an earlier connection are ignored. */
  private session = 0;
  /** Next backlog seq to send, and where the backlog ends (from there on, samples go live). */
  private cursor = 0;
  private replayEnd = 0;
  private inFlight = 0;
  /** One past the highest seq sent on this connection, live or backlog. */
  private sentHigh = 0;
  private budget = 0;
  // The pump runs on a timer only while it has work: every TICK_MS while backlog is left, once when
  // an unacknowledged sample's ack is due (stall check), and not at all otherwise. A timer every
  // 50 ms for nothing cost an idle agent about 1.5 ms of CPU a second, most of its budget.
  private timer: NodeJS.Timeout | null = null;
  private timerDueMs = 0;
  private lastTickMs = 0;
  private lastProgressMs = 0;
  private lastAckMs = 0;
  private stallTimeoutMs: number;
  private readonly rate: number;
  private readonly maxInFlight: number;
  private readonly ackTimeoutMs: number;
  // Built once: the topic builders check the node name on every call.
  private readonly metricsTopic: string;
  private readonly ackTopic: string;
  /**
   * The first seq this process spooled: a replayed sample from here on was taken by this process,
   * whose monotonic clock says how long ago (age_ms). An older one may predate a reboot, which
   * restarts that clock, so it goes without.
   */
  private readonly firstSeqOfRun: number;

  constructor(private readonly options: ReplayerOptions) {
    this.metricsTopic = topics.metrics(options.node);
    this.ackTopic = topics.ack(options.node);
    this.firstSeqOfRun = options.spool.nextSeq;
    this.rate = options.replayPerSecond ?? 200;
    this.maxInFlight = options.maxInFlight ?? 32;
    this.ackTimeoutMs = options.ackTimeoutMs ?? 10_000;
    this.stallTimeoutMs = this.ackTimeoutMs;
    if (!(this.rate > 0) || !(this.maxInFlight >= 1) || !(this.ackTimeoutMs > 0)) {
      throw new TypeError(`replay: rate ${this.rate}/s, in-flight ${this.maxInFlight} and ack timeout ${this.ackTimeoutMs} ms must be positive`);
    }
  }

  get spool(): Spool {
    return this.options.spool;
  }

  /** What the hub needs to know about the spool, sent in the birth record. */
  report(): SpoolReport {
    const { spool } = this.options;
    return { spool_boot: spool.boot, spool_first_seq: spool.firstSeq, spool_dropped: spool.dropped };
  }

  /** A sample with the next seq: spooled (synced, unless the link is up) before it is sent live. */
  async record(tsMs: number, fields: Omit<Sample, 'boot' | 'seq' | 'ts_ms'>): Promise<Sample> {
    const { spool } = this.options;
    let sample: Sample | undefined;
    const record = spool.append(tsMs, (seq) => encodeSample((sample = { ...fields, boot: spool.boot, seq, ts_ms: tsMs })));
    const lost = spool.enforceLimits();
    if (lost > 0) {
      this.options.log.warn({ dropped: lost, total: spool.dropped }, 'spool over its cap: dropped the oldest samples');
      this.options.onDropped?.(lost);
    }
    spool.flush();
    const client = this.client;
    if (client && record.seq >= this.replayEnd) {
      // Live: not subject to the backlog's rate or in-flight bound, so it is never delayed by it.
      // QoS 0: the hub's ack, not the broker's PUBACK, is what frees the spool, and a live sample
      // lost on the way is sent again from it (a rewind on reconnect or on a stalled ack). The
      // PUBACK cost a wake-up and a store entry each sample: 0.3–0.4 ms of the agent's 2 ms.
      this.sentHigh = Math.max(this.sentHigh, record.seq + 1);
      client.publish(this.metricsTopic, record.payload, { qos: 0 }, (err) => {
        if (!err) this.stats.live++;
      });
      this.scheduleNext();
    }
    return sample!;
  }

  /** A connection is up: subscribe to acks and send the backlog again from the last ack. */
  attach(client: MqttClient): void {
    this.client = client;
    this.session++;
    this.inFlight = 0;
    this.sentHigh = 0;
    const { spool, log } = this.options;
    // The hub acknowledges within seconds from now on: new samples need not wait on the disk.
    spool.setLive(true);
    this.cursor = spool.firstSeq;
    this.replayEnd = spool.nextSeq;
    this.lastProgressMs = Date.now();
    this.lastAckMs = Date.now();
    this.stallTimeoutMs = this.ackTimeoutMs;
    // QoS 0: an ack says "every seq below next is stored", so a lost one is covered by the next, and
    // the stall check resends when none comes. At QoS 1 each ack cost the agent a PUBACK write.
    client.subscribe(this.ackTopic, { qos: 0 }, (err) => {
      if (err) log.warn({ err: err.message }, 'could not subscribe to acks');
    });
    if (this.replayEnd > this.cursor) log.info({ backlog: this.replayEnd - this.cursor, from: this.cursor }, 'replaying the spool');
    this.lastTickMs = Date.now();
    this.wakeIn(0);
  }

  detach(): void {
    this.client = null;
    this.session++;
    this.inFlight = 0;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    // No acks until the link is back: the unacknowledged tail goes to disk, synced, and so does each sample.
    this.options.spool.setLive(false);
  }

  /** Handles an ack message; false when the topic is not ours. */
  handleMessage(topic: string, payload: Buffer): boolean {
    if (topic !== this.ackTopic) return false;
    let ack: ReturnType<typeof decodeAck>;
    try {
      ack = decodeAck(payload);
    } catch (err) {
      if (err instanceof ProtocolError) this.options.log.warn({ err: err.message }, 'ignored a malformed ack');
      return true;
    }
    const { spool } = this.options;
    if (ack.boot !== spool.boot) return true; // about an earlier spool of this node
    this.stats.acks++;
    const now = Date.now();
    const silentFor = now - this.lastAckMs;
    this.lastAckMs = now;
    this.stallTimeoutMs = this.ackTimeoutMs;
    if (ack.next > spool.acked) {
      const skipped = spool.ack(ack.next);
      if (skipped > 0) {
        // Seqs lost with the power before they were synced: the hub learns that it will never get them.
        this.options.log.warn(
          { from: spool.acked - skipped, to: spool.acked, count: skipped },
          'spool: gave up the seqs a power cut left unknown (maybe sent, never synced)',
        );
        this.options.onDropped?.(0);
      }
      this.lastProgressMs = now;
      if (this.cursor < spool.acked) this.cursor = spool.acked;
    } else if (silentFor > this.ackTimeoutMs && ack.next < this.cursor) {
      // The hub is back after a silence: what was sent meanwhile may not have reached it.
      this.rewind('hub back after a silence');
      this.scheduleNext();
    }
    return true;
  }

  /** Runs the pump in `delayMs`, unless it is due sooner already. */
  private wakeIn(delayMs: number): void {
    if (!this.client) return;
    const due = Date.now() + delayMs;
    if (this.timer) {
      if (this.timerDueMs <= due) return;
      clearTimeout(this.timer);
    }
    this.timerDueMs = due;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.pump();
      this.scheduleNext();
    }, delayMs);
  }

  /** Plans the pump's next run from what is left to do: backlog to send, or an ack to wait for. */
  private scheduleNext(): void {
    if (this.cursor < this.replayEnd) {
      this.wakeIn(TICK_MS);
    } else if (this.options.spool.acked < this.sentHigh) {
      // When the stall check in pump() would first fire, if no ack makes progress before then.
      this.wakeIn(Math.max(TICK_MS, this.lastProgressMs + this.stallTimeoutMs + 1 - Date.now()));
    }
  }

  private rewind(why: string): void {
    const { spool, log } = this.options;
    this.stats.rewinds++;
    this.cursor = spool.acked;
    this.replayEnd = Math.max(this.replayEnd, spool.nextSeq);
    this.lastProgressMs = Date.now();
    log.info({ from: this.cursor, to: this.replayEnd, why }, 'sending unacknowledged samples again');
  }

  /** Sends backlog within the rate and in-flight bounds; checks for a stalled ack. */
  private pump(): void {
    const client = this.client;
    if (!client?.connected) return;
    const { spool } = this.options;
    const now = Date.now();
    this.budget = Math.min(this.budget + ((now - this.lastTickMs) * this.rate) / 1000, Math.max(1, this.rate / 4));
    this.lastTickMs = now;
    if (spool.acked < this.sentHigh && now - this.lastProgressMs > this.stallTimeoutMs) {
      this.rewind('no ack progress');
      // Back off while the hub stays silent, so a dead hub is not sent the same backlog again and again.
      this.stallTimeoutMs = Math.min(this.stallTimeoutMs * 2, 120_000);
    }
    const want = Math.min(Math.floor(this.budget), this.maxInFlight - this.inFlight, this.replayEnd - this.cursor);
    if (want <= 0) return;
    const records = spool.read(this.cursor, want);
    if (records.length === 0 && this.cursor < spool.firstSeq) this.cursor = spool.firstSeq;
    const session = this.session;
    const topic = this.metricsTopic;
    for (const record of records) {
      let payload: Buffer;
      try {
        const sample = decodeSample(record.payload);
        // How old it is by the monotonic clock lets the hub place it right even if the wall clock
        // was wrong when it was taken (a Pi without a real-time clock, before NTP).
        const age = record.seq >= this.firstSeqOfRun && sample.mono_ms !== undefined ? Math.max(0, monotonicMs() - sample.mono_ms) : undefined;
        payload = Buffer.from(encodeSample({ ...sample, historical: 1, ...(age === undefined ? {} : { age_ms: age }) }));
      } catch (err) {
        this.options.log.warn({ seq: record.seq, err: (err as Error).message }, 'skipped an unreadable spooled sample');
        this.cursor = record.seq + 1;
        continue;
      }
      this.inFlight++;
      this.budget--;
      this.cursor = record.seq + 1;
      this.sentHigh = Math.max(this.sentHigh, this.cursor);
      client.publish(topic, payload, { qos: 1 }, (err) => {
        if (session !== this.session) return;
        this.inFlight--;
        if (!err) this.stats.replayed++;
      });
    }
  }

  close(): void {
    this.detach();
    this.options.spool.close();
  }
}
