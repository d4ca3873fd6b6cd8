// Listens for the Hono app, and lends its HTTP server to the broker for MQTT over WebSocket.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';

export interface WebServer {
  server: Server;
  port: number;
  close(): Promise<void>;
}

export async function listen(app: Hono, port: number, host = '127.0.0.1'): Promise<WebServer> {
  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port, hostname: host }, () => resolve(s as Server));
    s.once('error', reject);
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // live streams would hold close() open
      }),
  };
}
