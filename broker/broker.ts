// The embedded MQTT broker: Aedes on TCP, on TLS (mqtts) when given a certificate, and MQTT over
// WebSocket on an HTTP(S) server's upgrade path. Every transport goes through the same limits
// (broker/limits.ts): per-IP admission at accept, the packet size cap on the byte stream before
// Aedes sees it, and Aedes' own timeouts and caps.
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { Aedes } from 'aedes';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { Logger } from '../shared/logger.ts';
import type { MqttCredentials } from '../auth/mqtt-credentials.ts';
import { isLoopbackHost } from '../auth/loopback.ts';
import { accessHooks } from './access.ts';
import { IpLimiter, isLoopback } from './ip-limits.ts';
import { resolveLimits, type BrokerLimits } from './limits.ts';
import { guardPacketSize } from './size-guard.ts';

export interface BrokerOptions {
  host?: string;
  /** TCP port for MQTT; 0 picks a free one. */
  port?: number;
  log: Logger;
  /** Overrides of the limits against abuse; see DEFAULT_LIMITS for each default and why. */
  limits?: Partial<BrokerLimits>;
  /**
   * Per-identity tokens and topic ACLs (broker/acl.ts). Null or absent: an open broker, which
   * start() refuses on any host but loopback so that nothing is open by accident.
   */
  credentials?: MqttCredentials | null;
  /** Also serve MQTT over TLS (mqtts) with this PEM certificate chain and key; `port` defaults to 8883, 0 picks a free one. */
  tls?: BrokerTls;
}

export interface BrokerTls {
  cert: Buffer | string;
  key: Buffer | string;
  port?: number;
}

/** How often expired per-IP failures and blocks are forgotten, in ms. */
const SWEEP_MS = 60_000;
/** How often revocations are looked up to end live sessions, in ms: "within a few seconds". */
const REVOCATION_CHECK_MS = 2_000;
/**
 * Each look-up reaches this far behind the previous one, in ms: `remonitor node revoke` stamps the
 * row before its commit lands, so a revocation can appear in the database already slightly in the past.
 */
const REVOCATION_OVERLAP_MS = 5_000;

export class EmbeddedBroker {
  private aedes: Aedes | null = null;
  private tcp: Server | null = null;
  private tlsServer: TlsServer | null = null;
  private readonly wss: WebSocketServer;
  private readonly sockets = new Set<Socket | Duplex>();
  readonly limits: Readonly<BrokerLimits>;
  private readonly ipLimiter: IpLimiter;
  /** Remote address of each stream handed to Aedes, to charge refused CONNECTs to it. */
  private readonly addressOf = new WeakMap<object, string>();
  /** Addresses already warned about this sweep period, so a flood logs one line, not thousands. */
  private readonly warned = new Set<string>();
  private sweepTimer: NodeJS.Timeout | null = null;
  private revocationTimer: NodeJS.Timeout | null = null;
  port = 0;
  /** The mqtts port once started; 0 without TLS. */
  tlsPort = 0;

  constructor(private readonly options: BrokerOptions) {
    this.limits = resolveLimits(options.limits);
    this.ipLimiter = new IpLimiter(this.limits);
    // ws would otherwise buffer a single frame of up to 100 MiB before we see a byte of it; one
    // frame never needs to hold more than a whole packet of the largest size [MQTT-6.0.0-2].
    this.wss = new WebSocketServer({ noServer: true, maxPayload: this.limits.maxPacketBytes });
  }

  async start(): Promise<void> {
    const { log } = this.options;
    const limits = this.limits;
    const credentials = this.options.credentials ?? null;
    const host = this.options.host ?? '127.0.0.1';
    if (!credentials && !isLoopbackHost(host)) {
      throw new Error(
        `refusing to start an MQTT broker without credentials on host "${host}": anyone who reaches it could publish and read everything; bind to 127.0.0.1 or enable credentials (remonitor node add)`,
      );
    }
    const access = accessHooks({ credentials, log, maxRetained: limits.maxRetained, addressOf: (client) => this.addressOf.get(client.conn) });
    // No cap on messages in delivery (0): past the cap, mqemitter 7 queues them and delivers the
    // queue by recursion (released → _do → released…), which overflowed the stack at fleet rates
    // with 100 and, rarely, with 1000 (RangeError, bench/hub-ingest.ts --broker-process). In-flight
    // messages stay bounded anyway: a QoS 1 PUBACK waits for delivery, and a subscriber that stops
    // reading is cut off by drainTimeout.
    const aedes = await Aedes.createBroker({
      ...access.hooks,
      concurrency: 0,
      connectTimeout: limits.connectTimeoutMs,
      keepaliveLimit: limits.keepaliveLimitSec,
      drainTimeout: limits.drainTimeoutMs,
      maxInflightInbound: limits.maxInflightInbound,
      queueLimit: limits.queueLimit,
    });
    aedes.on('clientError', (client, err) => log.debug({ client: client.id, err: err.message }, 'client error'));
    aedes.on('connackSent', (packet, client) => {
      if (!packet.returnCode) return;
      const address = this.addressOf.get(client.conn);
      if (address !== undefined && this.ipLimited(address) && this.ipLimiter.recordFailedConnect(address, Date.now())) {
        log.warn(
          { address, blockMs: limits.failedConnectBlockMs, maxPerMinute: limits.maxFailedConnectsPerMinute },
          'too many refused CONNECTs; refusing this address for a while',
        );
      }
    });
    this.aedes = aedes;
    const tcp = createServer((socket) => {
      if (!this.admit(socket, socket.remoteAddress)) return;
      socket.setNoDelay(true); // samples are small and latency-bound
      this.track(socket);
      aedes.handle(this.guard(socket, socket.remoteAddress ?? ''));
    });
    this.tcp = tcp;
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(this.options.port ?? 1883, this.options.host ?? '127.0.0.1', () => resolve());
    });
    this.port = (tcp.address() as AddressInfo).port;
    if (this.options.tls) await this.startTls(this.options.tls, aedes);
    this.sweepTimer = setInterval(() => {
      this.ipLimiter.sweep(Date.now());
      this.warned.clear();
    }, SWEEP_MS).unref();
    if (credentials) {
      let checkedMs = Date.now();
      this.revocationTimer = setInterval(() => {
        const nowMs = Date.now();
        try {
          access.endRevokedSessions(checkedMs - REVOCATION_OVERLAP_MS);
          checkedMs = nowMs;
        } catch (err) {
          log.error({ err: (err as Error).message }, 'could not look up revoked credentials; retrying');
        }
      }, REVOCATION_CHECK_MS).unref();
    }
    log.info({ host: this.options.host ?? '127.0.0.1', port: this.port }, 'MQTT broker listening');
  }

  /**
   * mqtts: admission on the raw socket before the handshake (a refused address costs no crypto),
   * then the same guard and tracking as TCP once the handshake is done.
   */
  private async startTls(options: BrokerTls, aedes: Aedes): Promise<void> {
    const server = createTlsServer({ cert: options.cert, key: options.key, handshakeTimeout: this.limits.connectTimeoutMs }, (socket) => {
      socket.setNoDelay(true);
      this.track(socket);
      aedes.handle(this.guard(socket, socket.remoteAddress ?? ''));
    });
    server.on('connection', (socket: Socket) => {
      if (this.admit(socket, socket.remoteAddress)) this.track(socket);
    });
    // A failed handshake (wrong CA on the client side, plain MQTT on the TLS port) closes that socket only.
    server.on('tlsClientError', (err, socket) => {
      this.options.log.debug({ address: socket.remoteAddress, err: err.message }, 'TLS handshake failed');
      socket.destroy();
    });
    this.tlsServer = server;
    const host = this.options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 8883, host, () => resolve());
    });
    this.tlsPort = (server.address() as AddressInfo).port;
    this.options.log.info({ host, port: this.tlsPort }, 'MQTT over TLS listening');
  }

  /** Serves MQTT over WebSocket on `path` of an HTTP server, or over secure WebSocket on an HTTPS one. */
  attachWebSocket(server: HttpServer | HttpsServer, path = '/mqtt'): void {
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (new URL(request.url ?? '/', 'http://x').pathname !== path || !this.aedes) return;
      const address = request.socket.remoteAddress;
      if (!this.admit(socket, address)) return;
      this.wss.handleUpgrade(request, socket, head, (ws) => {
        const stream = createWebSocketStream(ws);
        this.track(stream);
        this.aedes?.handle(this.guard(stream, address ?? ''), request);
      });
    });
  }

  /** Per-IP admission at accept; a refused socket is destroyed before anything is read from it. */
  private admit(socket: Duplex, address: string | undefined): boolean {
    if (address === undefined) {
      socket.destroy(); // already gone
      return false;
    }
    if (!this.ipLimited(address)) return true;
    const admission = this.ipLimiter.admit(address, Date.now());
    if (!admission.ok) {
      socket.destroy();
      const log = this.options.log;
      if (!this.warned.has(address)) {
        this.warned.add(address);
        log.warn({ address, reason: admission.reason, maxConnectionsPerIp: this.limits.maxConnectionsPerIp }, 'connection refused');
      } else log.debug({ address, reason: admission.reason }, 'connection refused');
      return false;
    }
    socket.once('close', () => this.ipLimiter.release(address));
    return true;
  }

  private ipLimited(address: string): boolean {
    return this.limits.ipLimitsOnLoopback || !isLoopback(address);
  }

  private guard(stream: Duplex, address: string): Duplex {
    let logged = false;
    const guarded = guardPacketSize(stream, this.limits.maxPacketBytes, (violation) => {
      if (logged) return;
      logged = true;
      this.options.log.warn({ address, ...violation, maxPacketBytes: this.limits.maxPacketBytes }, 'packet over the size cap or malformed; disconnected');
    });
    this.addressOf.set(guarded, address);
    return guarded;
  }

  private track(stream: Socket | Duplex): void {
    this.sockets.add(stream);
    stream.once('close', () => this.sockets.delete(stream));
  }

  /**
   * Subscribes a function of this process to `pattern`, past the ACLs (the hub's ingest, when the
   * broker runs inside it): no socket, no packet encoding, no PUBACK. The publisher's PUBACK waits
   * for `done`, so holding it back slows the publishers down. Retained messages are delivered first,
   * as a subscribing client would get them. Resolves to the unsubscribe.
   */
  async subscribeLocal(pattern: string, deliver: (topic: string, payload: Buffer, done: () => void) => void): Promise<() => Promise<void>> {
    const aedes = this.running();
    const onPacket = (packet: { topic: string; payload: Buffer | string }, done: () => void) =>
      deliver(packet.topic, typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload, done);
    await new Promise<void>((resolve) => aedes.subscribe(pattern, onPacket, resolve));
    // Aedes' typings leave out its persistence, which its own SUBSCRIBE handler reads retained messages from.
    const { persistence } = aedes as unknown as {
      persistence: { createRetainedStreamCombi(patterns: string[]): AsyncIterable<{ topic: string; payload: Buffer }> };
    };
    for await (const packet of persistence.createRetainedStreamCombi([pattern])) {
      await new Promise<void>((resolve) => onPacket(packet, resolve));
    }
    return () => new Promise<void>((resolve) => aedes.unsubscribe(pattern, onPacket, resolve));
  }

  /** Publishes from this process at QoS 1, not retained, past the ACLs. */
  publishLocal(topic: string, payload: Buffer): void {
    this.running().publish({ cmd: 'publish', topic, payload, qos: 1, retain: false, dup: false }, () => undefined);
  }

  private running(): Aedes {
    if (!this.aedes) throw new Error('the embedded broker is not started');
    return this.aedes;
  }

  async stop(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    if (this.revocationTimer) clearInterval(this.revocationTimer);
    this.revocationTimer = null;
    const tcp = this.tcp;
    const closed = tcp ? new Promise<void>((resolve) => tcp.close(() => resolve())) : Promise.resolve();
    const tlsServer = this.tlsServer;
    const tlsClosed = tlsServer ? new Promise<void>((resolve) => tlsServer.close(() => resolve())) : Promise.resolve();
    const aedes = this.aedes;
    if (aedes) await new Promise<void>((resolve) => aedes.close(() => resolve()));
    for (const s of this.sockets) s.destroy(); // close() waits for open connections otherwise
    this.wss.close();
    await closed;
    await tlsClosed;
  }
}
