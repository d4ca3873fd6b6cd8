// Listens for the Hono app (HTTP, or HTTPS given a certificate), and lends its server to the broker
// for MQTT over WebSocket.
import type { Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';

export interface WebServer {
  /** An https.Server when listening with TLS (it is an http.Server too). */
  server: Server;
  /** 'https' when listening with TLS. */
  scheme: 'http' | 'https';
  port: number;
  close(): Promise<void>;
}

/** PEM certificate chain and key for HTTPS. */
export interface WebTls {
  cert: Buffer | string;
  key: Buffer | string;
}

export async function listen(app: Hono, port: number, host = '127.0.0.1', tls?: WebTls): Promise<WebServer> {
  const secure = tls ? { createServer: createHttpsServer, serverOptions: { cert: tls.cert, key: tls.key } } : {};
  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port, hostname: host, ...secure }, () => resolve(s as Server));
    s.once('error', reject);
  });
  return {
    server,
    scheme: tls ? 'https' : 'http',
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // live streams would hold close() open
      }),
  };
}
