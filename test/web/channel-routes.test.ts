// POST /api/alarms/channels/test on a real hub (HTTP, no logins: loopback only): a test message
// reaches a fake ntfy service on 127.0.0.1; a bad URL is a 400 naming the field; a service that
// refuses gives its answer back as the error text. Who may call it: web/route-roles.ts (admins),
// sent as every role by test/web/route-roles.test.ts.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, runCleanups, startBroker, startHub } from '../helpers/parts.ts';

afterEach(runCleanups);

/** A fake ntfy server answering `status` with `body`. */
async function fakeNtfy(status: number, body = ''): Promise<{ host: string; calls: { path: string; headers: IncomingHttpHeaders; body: string }[] }> {
  const calls: { path: string; headers: IncomingHttpHeaders; body: string }[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      calls.push({ path: req.url ?? '', headers: req.headers, body: text });
      res.writeHead(status, { 'content-type': 'application/json' }).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { host: `127.0.0.1:${(server.address() as AddressInfo).port}`, calls };
}

describe('POST /api/alarms/channels/test', () => {
  it('sends a test message, or says why not', async () => {
    const { url } = await startBroker();
    const { api } = await startHub(url);
    const test = async (body: unknown) => {
      const res = await fetch(`${api}/api/alarms/channels/test`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };

    const ok = await fakeNtfy(200, '{"id":"1"}');
    expect(await test({ url: `ntfy://${ok.host}/fleet?scheme=http` })).toEqual({ status: 200, body: { ok: true, channel: `ntfy://${ok.host}/…` } });
    expect(ok.calls).toHaveLength(1);
    expect(ok.calls[0]).toMatchObject({
      path: '/fleet',
      body: 'remonitor test notification: this channel works.',
      headers: { title: 'remonitor: test notification' },
    });

    const refusing = await fakeNtfy(403, '{"code":40301,"http":403,"error":"forbidden"}');
    expect(await test({ url: `ntfy://${refusing.host}/fleet?scheme=http` })).toEqual({
      status: 502,
      body: { error: `the test notification to ntfy://${refusing.host}/… failed: HTTP 403 Forbidden: {"code":40301,"http":403,"error":"forbidden"}` },
    });

    expect(await test({ url: 'telegram://api.telegram.org' })).toEqual({
      status: 400,
      body: {
        error:
          'url: the bot token goes before the host: telegram://123456:ABC-DEF@api.telegram.org?chats=…; url: chats= must list at least one chat id (a number, or @channel)',
        problems: [
          { field: 'url', problem: 'the bot token goes before the host: telegram://123456:ABC-DEF@api.telegram.org?chats=…' },
          { field: 'url', problem: 'chats= must list at least one chat id (a number, or @channel)' },
        ],
      },
    });
    expect((await test({ url: 'http://169.254.169.254/latest/meta-data/' })).status).toBe(400);
    expect((await test('just text')).status).toBe(400);
  }, 30_000);
});
