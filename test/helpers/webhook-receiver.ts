// A webhook endpoint for alarm tests: node:http on a free loopback port, keeping each call's JSON body.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WebhookBody } from '../../hub/alarms/notifier.ts';
import { cleanup } from './parts.ts';

export async function startWebhookReceiver(): Promise<{ url: string; calls: WebhookBody[] }> {
  const calls: WebhookBody[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      calls.push(JSON.parse(body) as WebhookBody);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, calls };
}
