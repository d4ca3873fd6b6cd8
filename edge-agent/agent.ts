// The agent's life: connect with a last will, publish the birth record, sample on a timer,
// reconnect with backoff, and say `offline` on the way out.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { agentClientId, encodeInfo, PROTOCOL_VERSION, topics, type NodeInfo } from '../protocol/index.ts';
import { DEFAULT_BACKOFF, reconnectDelay, type BackoffPolicy } from './backoff.ts';
import type { Logger } from '../shared/logger.ts';
import type { Sampler } from './sampler.ts';
import { CommandHandler } from './command-handler.ts';
import { connectBroker } from './mqtt-connect.ts';
import { OncePer, REFUSAL_LOG_INTERVAL_MS, refusalAdvice } from './connect-refusal.ts';
import { monotonicMs, Replayer } from './replayer.ts';
import { defaultTailDir, Spool } from './spool.ts';

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
  /** PEM CA certificate(s) to trust for mqtts:// and wss:// (a lab's self-signed hub certificate). */
  ca?: Buffer | string;
  backoff?: BackoffPolicy;
  /**
   * Where samples wait for the hub's ack (edge-agent/spool.ts). Without it a temporary directory
   * is used and removed on stop: the backlog then survives outages but not a restart.
   */
  spoolDir?: string;
  spoolMaxBytes?: number;
  spoolMaxAgeMs?: number;
  /** RAM filesystem directory for the spool's live tail (default: defaultTailDir()); null for none. */
  spoolTailDir?: string | null;
  /** Backlog replay bounds and the ack timeout (edge-agent/replayer.ts). */
  replayPerSecond?: number;
  maxInFlight?: number;
  ackTimeoutMs?: number;
}

export interface AgentStats {
  /** Samples handed to the broker: live ones written to the socket (QoS 0), backlog ones PUBACKed. */
  published: number;
  /** Samples dropped unacknowledged because the spool was over its size or age cap. */
  droppedOffline: number;
  sampleErrors: number;
}

export class Agent {
  readonly replayer: Replayer;
  private sampleErrors = 0;
  private readonly tempSpoolDir: string | null;
  private client: MqttClient | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastProcessesMs = -Infinity;
  private reconnectAttempt = 0;
  /** The last attempt was refused for its credentials: said by refusalLog, not as a lost connection. */
  private refused = false;
  private readonly refusalLog = new OncePer(REFUSAL_LOG_INTERVAL_MS);
  private stopping = false;
  // Remote commands (issue 3): pause/resume, interval, watches; logic in command-handler.ts.
  private pausedFlag = false;
  private loopGeneration = 0;
  readonly commands: CommandHandler;

  constructor(private readonly options: AgentOptions) {
    this.tempSpoolDir = options.spoolDir ? null : mkdtempSync(join(tmpdir(), 'remonitor-spool-'));
    const spool = new Spool({
      dir: options.spoolDir ?? this.tempSpoolDir!,
      maxBytes: options.spoolMaxBytes,
      maxAgeMs: options.spoolMaxAgeMs,
      tailDir: options.spoolTailDir === null ? undefined : (options.spoolTailDir ?? defaultTailDir()),
    });
    const { tornBytes, tailRecords, unknownSeqs } = spool.openReport;
    if (tornBytes > 0) options.log.warn({ bytes: tornBytes }, 'spool: discarded a torn record at the tail');
    if (tailRecords > 0) options.log.info({ records: tailRecords }, 'spool: synced the live tail a killed agent left in RAM');
    if (unknownSeqs > 0)
      options.log.warn({ seqs: unknownSeqs, from: spool.nextSeq - unknownSeqs }, 'spool: the power went in live mode; seqs past the last sync are skipped');
    this.replayer = new Replayer({
      spool,
      node: options.node,
      log: options.log,
      replayPerSecond: options.replayPerSecond,
      maxInFlight: options.maxInFlight,
      ackTimeoutMs: options.ackTimeoutMs,
      // Tell the hub at once (retained birth record), so it records the gap rather than wait for it.
      onDropped: () => this.client?.connected && void this.announce(this.client),
    });
    this.commands = new CommandHandler({
      node: options.node,
      agent: this,
      log: options.log,
      publish: (topic, payload, qos) => void this.client?.publish(topic, Buffer.from(payload), { qos }),
    });
  }

  /** Fixed for the life of the spool, so a restarted agent keeps its identity and seq. */
  get bootId(): string {
    return this.replayer.spool.boot;
  }

  private get seq(): number {
    return this.replayer.spool.nextSeq;
  }

  get stats(): AgentStats {
    const { live, replayed } = this.replayer.stats;
    return { published: live + replayed, droppedOffline: this.replayer.spool.dropped, sampleErrors: this.sampleErrors };
  }

  get paused(): boolean {
    return this.pausedFlag;
  }

  get intervalMs(): number {
    return this.options.intervalMs;
  }

  /** `stop` command: no samples until resume; the connection and the `online` status stay. */
  pause(): void {
    this.pausedFlag = true;
  }

  resume(): void {
    this.pausedFlag = false;
  }

  /** `interval` command: the new cadence starts now, not after the old interval has run out. */
  setIntervalMs(ms: number): void {
    this.options.intervalMs = ms;
    this.loopGeneration++;
    if (this.timer) clearTimeout(this.timer);
    this.scheduleNext(ms);
    // The birth record carries the interval (dashboards size their gaps by it): say the new one.
    if (this.client?.connected) void this.announce(this.client);
  }

  /** `snapshot` command: one sample now with the process list, even while paused; resolves with its seq. */
  async snapshotNow(): Promise<number> {
    this.lastProcessesMs = -Infinity;
    const seq = this.seq;
    await this.tick();
    return seq;
  }

  async start(): Promise<void> {
    const { brokerUrl, node, log } = this.options;
    const backoff = this.options.backoff ?? DEFAULT_BACKOFF;
    const client = connectBroker(brokerUrl, {
      clientId: agentClientId(node),
      username: this.options.username,
      password: this.options.password,
      ...(this.options.ca ? { ca: this.options.ca } : {}), // mqtt.js hands it to tls.connect and to ws
      protocolVersion: 4, // MQTT 3.1.1: every broker we meet speaks it, Aedes 1.x only it
      clean: true,
      keepalive: 30,
      connectTimeout: 10_000,
      reconnectPeriod: reconnectDelay(0, backoff),
      will: { topic: topics.status(node), payload: Buffer.from('offline'), qos: 1, retain: true },
      // Packet ids and lengths written as they come: the default precomputes a Buffer for each of
      // the 65536 two-byte numbers, 6 MiB of heap held for the life of the process.
      writeCache: false,
      // A PINGREQ every keepalive rather than the ping timer cleared and set again on every PUBACK,
      // once a second: two small packets every 30 s cost less than a timer round each sample.
      reschedulePings: false,
      // A refused CONNECT (a wrong token) is retried like a lost connection, with the same backoff:
      // the token may be fixed on the hub's side. mqtt.js otherwise stops for good after one.
      reconnectOnConnackError: true,
    });
    this.client = client;
    client.on('connect', () => {
      this.reconnectAttempt = 0;
      this.refusalLog.reset();
      client.options.reconnectPeriod = reconnectDelay(0, backoff);
      log.info({ broker: brokerUrl, node, backlog: this.replayer.spool.unacked }, 'connected to broker');
      void this.announce(client);
      this.replayer.attach(client);
      // A command reply is a small write right after the PUBACK of its command: without this,
      // Nagle holds it for the broker's delayed ACK (40 ms on Linux) and every reply waits.
      (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
      // Clean session: the broker forgot the subscription, so subscribe on every (re)connect.
      client.subscribe(topics.cmd(node), { qos: 1 }, (err) => {
        if (err) log.warn({ err: err.message }, 'could not subscribe to commands');
      });
    });
    const cmdTopic = topics.cmd(node);
    client.on('message', (topic, payload) => {
      if (this.replayer.handleMessage(topic, payload)) return;
      if (topic === cmdTopic) void this.commands.handle(payload);
    });
    client.on('close', () => {
      this.replayer.detach();
      if (this.stopping) return;
      // mqtt.js reconnects after options.reconnectPeriod: grow it for the next attempt.
      client.options.reconnectPeriod = reconnectDelay(++this.reconnectAttempt, backoff);
      if (this.refused) this.refused = false;
      else log.warn({ retryInMs: client.options.reconnectPeriod }, 'broker connection lost, reconnecting');
    });
    client.on('error', (err) => {
      const advice = refusalAdvice((err as { code?: unknown }).code, this.options);
      if (advice === null) return log.warn({ err: err.message }, 'mqtt error');
      this.refused = true;
      if (this.refusalLog.due()) log.error({ err: err.message, node, username: this.options.username ?? null }, advice);
    });
    this.scheduleNext(0);
  }

  private async announce(client: MqttClient): Promise<void> {
    const { node, log } = this.options;
    try {
      await client.publishAsync(topics.status(node), 'online', { qos: 1, retain: true });
      // interval_ms as it is now: an `interval` command changes it after the record was built.
      const info = { ...(await this.options.birthRecord()), interval_ms: this.options.intervalMs };
      // The spool's state rides in the birth record (protocol/ack.ts); readers ignore keys they don't know.
      const withSpool = { ...info, ...this.replayer.report() } as NodeInfo;
      await client.publishAsync(topics.info(node), Buffer.from(encodeInfo(withSpool)), { qos: 1, retain: true });
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'could not publish status and birth record');
    }
  }

  /** Keeps a steady cadence: the next tick is planned from the intended time, not from when work ended. */
  private scheduleNext(delayMs: number): void {
    if (this.stopping) return;
    const due = Date.now() + delayMs;
    const generation = this.loopGeneration; // setIntervalMs starts a new loop; the old one ends here
    this.timer = setTimeout(() => {
      void (this.pausedFlag ? Promise.resolve() : this.tick()).finally(() => {
        if (generation === this.loopGeneration) this.scheduleNext(Math.max(0, due + this.options.intervalMs - Date.now()));
      });
    }, delayMs);
  }

  private async tick(): Promise<void> {
    const { sampler, log, processIntervalMs } = this.options;
    const now = Date.now();
    const mono = monotonicMs();
    const processes = now - this.lastProcessesMs >= processIntervalMs;
    let reading: Awaited<ReturnType<Sampler['read']>>;
    try {
      reading = await sampler.read({ processes });
      if (processes) this.lastProcessesMs = now;
    } catch (err) {
      if (this.sampleErrors++ === 0) log.error({ err: (err as Error).message }, 'sampling failed');
      return;
    }
    if (this.stopping) return;
    try {
      // Spooled and synced first, then sent live (edge-agent/replayer.ts).
      await this.replayer.record(now, { v: PROTOCOL_VERSION, ...reading, mono_ms: mono });
    } catch (err) {
      if (this.sampleErrors++ === 0) log.error({ err: (err as Error).message }, 'could not spool a sample');
    }
  }

  /** Publishes `offline`, waits for in-flight messages, closes. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.commands.stopAll();
    if (this.timer) clearTimeout(this.timer);
    const client = this.client;
    let graceful = false;
    if (client?.connected) {
      // Bounded: a broker that vanished a moment ago still looks connected, and its PUBACK never comes.
      const offline = client.publishAsync(topics.status(this.options.node), 'offline', { qos: 1, retain: true }).then(
        () => true,
        () => false,
      );
      graceful = await Promise.race([offline, new Promise<boolean>((r) => setTimeout(r, 2000, false).unref())]);
    }
    await client?.endAsync(!graceful);
    // Flushes what is spooled and persists the counters; unacked samples wait for the next start.
    this.replayer.close();
    this.options.log.debug({ ...this.replayer.spool.stats }, 'spool closed');
    this.options.sampler.close?.();
    if (this.tempSpoolDir) rmSync(this.tempSpoolDir, { recursive: true, force: true });
  }
}
