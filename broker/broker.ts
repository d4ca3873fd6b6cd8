// The embedded MQTT broker: Aedes on TCP, and MQTT over WebSocket on an HTTP server's upgrade path.
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { Aedes } from 'aedes';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { Logger } from '../edge-agent/logger.ts';
import { accessHooks } from './access.ts';

export interface BrokerOptions {
  host?: string;
  /** TCP port for MQTT; 0 picks a free one. */
  port?: number;
  log: Logger;
}

export class EmbeddedBroker {
  private aedes: Aedes | null = null;
  private tcp: Server | null = null;
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly sockets = new Set<Socket | Duplex>();
  port = 0;

  constructor(private readonly options: BrokerOptions) {}

  async start(): Promise<void> {
    const { log } = this.options;
    // Aedes delivers queued messages recursively once more than `concurrency` are in flight; at
    // fleet rates the default 100 overflowed the stack (RangeError in mqemitter, seen in bench/hub-ingest.ts).
    const aedes = await Aedes.createBroker({ ...accessHooks(), concurrency: 1000 });
    aedes.on('clientError', (client, err) => log.debug({ client: client.id, err: err.message }, 'client error'));
    this.aedes = aedes;
    const tcp = createServer((socket) => {
      socket.setNoDelay(true); // samples are small and latency-bound
      this.track(socket);
      aedes.handle(socket);
    });
    this.tcp = tcp;
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(this.options.port ?? 1883, this.options.host ?? '127.0.0.1', () => resolve());
    });
    this.port = (tcp.address() as AddressInfo).port;
    log.info({ host: this.options.host ?? '127.0.0.1', port: this.port }, 'MQTT broker listening');
  }

  /** Serves MQTT over WebSocket on `path` of an HTTP server (browsers and web MQTT clients). */
  attachWebSocket(server: HttpServer, path = '/mqtt'): void {
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (new URL(request.url ?? '/', 'http://x').pathname !== path || !this.aedes) return;
      this.wss.handleUpgrade(request, socket, head, (ws) => {
        const stream = createWebSocketStream(ws);
        this.track(stream);
        this.aedes?.handle(stream, request);
      });
    });
  }

  private track(stream: Socket | Duplex): void {
    this.sockets.add(stream);
    stream.once('close', () => this.sockets.delete(stream));
  }

  async stop(): Promise<void> {
    const tcp = this.tcp;
    const closed = tcp ? new Promise<void>((resolve) => tcp.close(() => resolve())) : Promise.resolve();
    const aedes = this.aedes;
    if (aedes) await new Promise<void>((resolve) => aedes.close(() => resolve()));
    for (const s of this.sockets) s.destroy(); // close() waits for open connections otherwise
    this.wss.close();
    await closed;
  }
}
