// Each notification channel against a fake of its service on 127.0.0.1 (node:http; node:net for
// SMTP), checking the request the service's documented API expects: method, path, headers, body.
// The fakes stand in for services that cannot run here (ntfy.sh, Telegram, Discord…); the channel
// URL's host points at them and `?scheme=http` drops TLS.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { AlarmMessage } from '../../../hub/alarms/channels/channel.ts';
import { channelProblems, redactedChannel, sendToChannel } from '../../../hub/alarms/channels/index.ts';
import { webhookBody } from '../../../hub/alarms/channels/webhook.ts';
import { compileRule, validateRule } from '../../../hub/alarms/rules.ts';
import type { AlarmTransition } from '../../../shared/alarm-types.ts';
import { cleanup, runCleanups } from '../../helpers/parts.ts';

afterEach(runCleanups);

interface Call {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A fake service: answers every call with `status` and `body`, keeping each request. */
async function fakeService(status = 200, body = ''): Promise<{ host: string; calls: Call[] }> {
  const calls: Call[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      calls.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: text });
      res.writeHead(status, { 'content-type': body.startsWith('{') ? 'application/json' : 'text/plain' }).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { host: `127.0.0.1:${(server.address() as AddressInfo).port}`, calls };
}

interface Mail {
  from: string;
  to: string[];
  data: string;
}

/** A fake SMTP server (RFC 5321's plain dialogue, no TLS, no auth) keeping each mail. */
async function fakeSmtp(): Promise<{ host: string; mails: Mail[] }> {
  const mails: Mail[] = [];
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let buffer = '';
    let mail: Mail = { from: '', to: [], data: '' };
    let inData = false;
    const reply = (line: string) => socket.write(`${line}\r\n`);
    reply('220 fake-smtp ESMTP');
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let end: number;
      while ((end = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (inData) {
          if (line === '.') {
            inData = false;
            mails.push(mail);
            mail = { from: '', to: [], data: '' };
            reply('250 2.0.0 queued');
          } else mail.data += `${line.startsWith('..') ? line.slice(1) : line}\r\n`;
          continue;
        }
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO' || verb === 'HELO') reply('250 fake-smtp');
        else if (verb === 'MAIL') {
          mail.from = /<(.*)>/.exec(line)?.[1] ?? '';
          reply('250 2.1.0 ok');
        } else if (verb === 'RCPT') {
          mail.to.push(/<(.*)>/.exec(line)?.[1] ?? '');
          reply('250 2.1.5 ok');
        } else if (verb === 'DATA') {
          inData = true;
          reply('354 end with <CRLF>.<CRLF>');
        } else if (verb === 'QUIT') {
          reply('221 bye');
          socket.end();
        } else reply('502 5.5.2 not implemented');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  return { host: `127.0.0.1:${(server.address() as AddressInfo).port}`, mails };
}

const t = (node: string, to: AlarmTransition['to'], value = 95): AlarmTransition => ({
  ts_ms: 1_700_000_000_000,
  node,
  rule_id: 'disk',
  subject: '',
  metric: 'disk_pct',
  from: 'ok',
  to,
  value,
  threshold: 90,
  tt_ms: null,
});

/** A burst as the groups make it: two nodes RED, one AMBER, one resolved. */
const MESSAGE: AlarmMessage = {
  v: 1,
  status: 'firing',
  level: 'red',
  repeat: false,
  title: 'remonitor: 4 nodes disk RED',
  rule: { id: 'disk', metric: 'disk_pct', threshold: 90, description: 'root filesystem' },
  firing: [t('pi-1', 'red'), t('pi-2', 'red'), t('pi-3', 'amber', 85)],
  resolved: [{ ...t('pi-4', 'ok', 70), from: 'red' }],
  url: 'https://hub.example:8080/alarms',
};
const TEXT = 'RED 2 nodes: disk_pct over 90 — pi-1, pi-2\nAMBER 1 node: disk_pct predicted over 90 — pi-3\nresolved 1 node: disk_pct back under 90 — pi-4';
const CTX = { timeoutMs: 5000 };
const TOKEN = 'azGDORePK8gMaC0QOYAMyEEuzJnyUi'; // 30 characters, as Pushover's are
const USER = 'uQiRzpo4DXghDmr9QzzfQu27cmVRsG';

describe('channels against fakes of their services', () => {
  it('webhook: the JSON body, with the older one-transition fields', async () => {
    const fake = await fakeService(204);
    await sendToChannel(`http://${fake.host}/hook?token=abc`, MESSAGE, CTX);
    expect(fake.calls).toHaveLength(1);
    const call = fake.calls[0]!;
    expect([call.method, call.path, call.headers['content-type']]).toEqual(['POST', '/hook?token=abc', 'application/json']);
    expect(JSON.parse(call.body)).toEqual(webhookBody(MESSAGE));
    expect(JSON.parse(call.body)).toMatchObject({
      type: 'alarm_group',
      transition: { node: 'pi-1' },
      rule: { id: 'disk' },
      suppressed: 0,
      status: 'firing',
      text: TEXT,
      url: MESSAGE.url,
    });
  });

  it('ntfy: the text as body, title, priority, tags, click and a token (docs.ntfy.sh/publish)', async () => {
    const fake = await fakeService(200, '{"id":"x"}');
    await sendToChannel(`ntfy://${fake.host}/fleet-alerts?scheme=http&token=tk_abc`, MESSAGE, CTX);
    const call = fake.calls[0]!;
    expect([call.method, call.path]).toEqual(['POST', '/fleet-alerts']);
    expect(call.headers).toMatchObject({
      title: 'remonitor: 4 nodes disk RED',
      priority: '5',
      tags: 'rotating_light',
      click: MESSAGE.url,
      authorization: 'Bearer tk_abc',
    });
    expect(call.body).toBe(TEXT);
  });

  it('ntfy: a user and password as Basic authentication', async () => {
    const fake = await fakeService(200);
    await sendToChannel(`ntfy://alerts:s3cret@${fake.host}/fleet?scheme=http`, MESSAGE, CTX);
    expect(fake.calls[0]!.headers.authorization).toBe(`Basic ${Buffer.from('alerts:s3cret').toString('base64')}`);
  });

  it('Gotify: POST /message with the app token header and a click URL (gotify.net/api-docs)', async () => {
    const fake = await fakeService(200, '{"id":1}');
    await sendToChannel(`gotify://${fake.host}/gotify/AvKxCyfWXkM.h-2?scheme=http`, MESSAGE, CTX);
    const call = fake.calls[0]!;
    expect([call.method, call.path, call.headers['x-gotify-key'], call.headers['content-type']]).toEqual([
      'POST',
      '/gotify/message',
      'AvKxCyfWXkM.h-2',
      'application/json',
    ]);
    expect(JSON.parse(call.body)).toEqual({
      title: 'remonitor: 4 nodes disk RED',
      message: `${TEXT}\n${MESSAGE.url}`,
      priority: 8,
      extras: { 'client::notification': { click: { url: MESSAGE.url } } },
    });
  });

  it('Telegram: sendMessage to each chat (core.telegram.org/bots/api#sendmessage)', async () => {
    const fake = await fakeService(200, '{"ok":true,"result":{}}');
    await sendToChannel(`telegram://123456:ABC-def_9@${fake.host}?chats=-1001234567890,@fleet_ops&scheme=http`, MESSAGE, CTX);
    expect(fake.calls.map((c) => `${c.method} ${c.path}`)).toEqual(['POST /bot123456:ABC-def_9/sendMessage', 'POST /bot123456:ABC-def_9/sendMessage']);
    expect(fake.calls.map((c) => JSON.parse(c.body))).toEqual(
      ['-1001234567890', '@fleet_ops'].map((chat_id) => ({
        chat_id,
        text: `remonitor: 4 nodes disk RED\n${TEXT}\n${MESSAGE.url}`,
        link_preview_options: { is_disabled: true },
      })),
    );
  });

  it('Telegram: a refusal says what the API said', async () => {
    const fake = await fakeService(400, '{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}');
    await expect(sendToChannel(`telegram://123456:ABC@${fake.host}?chats=42&scheme=http`, MESSAGE, CTX)).rejects.toThrow(
      'HTTP 400 Bad Request: {"ok":false,"error_code":400,"description":"Bad Request: chat not found"}',
    );
  });

  it('Discord: an embed, mentions off (discord.com/developers/docs/resources/webhook)', async () => {
    const fake = await fakeService(204);
    await sendToChannel(`discord://${fake.host}/api/webhooks/112233445566/tOk-EN_x?scheme=http`, MESSAGE, CTX);
    const call = fake.calls[0]!;
    expect([call.method, call.path]).toEqual(['POST', '/api/webhooks/112233445566/tOk-EN_x']);
    expect(JSON.parse(call.body)).toEqual({
      embeds: [{ title: 'remonitor: 4 nodes disk RED', description: TEXT, color: 0xd32f2f, url: MESSAGE.url }],
      allowed_mentions: { parse: [] },
    });
  });

  it('Slack: mrkdwn text with the link (api.slack.com/messaging/webhooks)', async () => {
    const fake = await fakeService(200, 'ok');
    await sendToChannel(`slack://${fake.host}/services/T0001/B0002/XXXXyyyy?scheme=http`, MESSAGE, CTX);
    const call = fake.calls[0]!;
    expect([call.method, call.path]).toEqual(['POST', '/services/T0001/B0002/XXXXyyyy']);
    expect(JSON.parse(call.body)).toEqual({ text: `*remonitor: 4 nodes disk RED*\n${TEXT}\n<${MESSAGE.url}|Open in remonitor>` });
  });

  it('Pushover: a form POST to /1/messages.json (pushover.net/api)', async () => {
    const fake = await fakeService(200, '{"status":1,"request":"r"}');
    await sendToChannel(`pushover://${TOKEN}@${fake.host}?user=${USER}&devices=phone&scheme=http`, MESSAGE, CTX);
    const call = fake.calls[0]!;
    expect([call.method, call.path, call.headers['content-type']]).toEqual(['POST', '/1/messages.json', 'application/x-www-form-urlencoded']);
    expect(Object.fromEntries(new URLSearchParams(call.body))).toEqual({
      token: TOKEN,
      user: USER,
      title: 'remonitor: 4 nodes disk RED',
      message: TEXT,
      priority: '1',
      url: MESSAGE.url,
      url_title: 'Open in remonitor',
      device: 'phone',
    });
  });

  it('e-mail: one mail over SMTP to every address', async () => {
    const smtp = await fakeSmtp();
    await sendToChannel(`smtp://${smtp.host}?from=alerts@fleet.example&to=ops@example.org,oncall@example.org`, MESSAGE, CTX);
    expect(smtp.mails).toHaveLength(1);
    const mail = smtp.mails[0]!;
    expect(mail.from).toBe('alerts@fleet.example');
    expect(mail.to).toEqual(['ops@example.org', 'oncall@example.org']);
    const [head, ...body] = mail.data.split('\r\n\r\n');
    expect(head).toMatch(/^Subject: remonitor: 4 nodes disk RED$/m);
    expect(head).toMatch(/^To: ops@example.org, oncall@example.org$/m);
    // Quoted-printable (the text has "—"): soft breaks joined, =XX decoded.
    const text = Buffer.from(
      body
        .join('\r\n\r\n')
        .replace(/=\r\n/g, '')
        .replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))),
      'latin1',
    ).toString('utf8');
    expect(text.trim().replace(/\r\n/g, '\n')).toBe(`${TEXT}\n${MESSAGE.url}`);
  });

  it('refuses to send where a rule may not point, before any request', async () => {
    const fake = await fakeService(200);
    await expect(sendToChannel('ntfy://169.254.169.254/t', MESSAGE, CTX)).rejects.toThrow(/^refused destination: 169\.254\.169\.254 is link-local/);
    await expect(sendToChannel('smtp://metadata.google.internal?from=a@b.c&to=d@e.f', MESSAGE, CTX)).rejects.toThrow(
      /metadata\.google\.internal is a cloud metadata service/,
    );
    expect(fake.calls).toHaveLength(0);
  });
});

describe('channel URLs', () => {
  it.each<[string, string[]]>([
    ['https://hooks.example/x', []],
    ['ntfy://ntfy.sh/fleet', []],
    ['gotify://gotify.lan/AbC123', []],
    ['telegram://123:abc@api.telegram.org?chats=42', []],
    ['discord://discord.com/api/webhooks/1/abc', []],
    ['slack://hooks.slack.com/services/T1/B2/X3', []],
    [`pushover://${TOKEN}@api.pushover.net?user=${USER}`, []],
    ['smtps://me:pw@mail.example?from=a@b.example&to=c@d.example', []],
    [
      'ftp://files.example/x',
      ['unknown channel "ftp://"; known: http://, https://, ntfy://, gotify://, telegram://, discord://, slack://, pushover://, smtp://, smtps://'],
    ],
    ['ntfy://10.0.0.1/two/levels', ['the path must be one topic name (A-Z a-z 0-9 - _, at most 64), got "/two/levels"']],
    ['ntfy://[fe80::1]/t', ['fe80::1 is link-local, where cloud metadata services answer (169.254.169.254); notifications may not go there']],
    ['ntfy://ntfy.sh/t?scheme=gopher', ['scheme="gopher": must be http or https']],
    [
      'telegram://nobody@api.telegram.org',
      [
        'the bot token goes before the host: telegram://123456:ABC-DEF@api.telegram.org?chats=…',
        'chats= must list at least one chat id (a number, or @channel)',
      ],
    ],
    ['discord://discord.com/api/x', ["the path must be the webhook's: discord://discord.com/api/webhooks/ID/TOKEN"]],
    ['smtp://mail.example?to=nobody', ['from= must be one e-mail address, got null', 'to: "nobody" is not an e-mail address']],
    ['not a url', ['"(not a URL)" is not a URL']],
  ])('%s', (url, problems) => {
    expect(channelProblems(url)).toEqual(problems);
  });

  it('keeps tokens out of what logs and the API show', () => {
    expect(redactedChannel('telegram://123:secret@api.telegram.org?chats=42')).toBe('telegram://api.telegram.org/…');
    expect(redactedChannel('discord://discord.com/api/webhooks/1/secret')).toBe('discord://discord.com/…');
  });

  it("a rule names each channel's problems with its field; older webhook and ntfy fields still load", () => {
    expect(
      validateRule({
        id: 'a',
        metric: 'cpu_pct',
        threshold: 80,
        notify: { channels: ['ntfy://metadata.google.internal/t', 'telegram://x@h'], repeat_interval: '10s', send_resolved: 'yes' },
      }),
    ).toEqual([
      { field: 'notify.channels[0]', problem: 'metadata.google.internal is a cloud metadata service; notifications may not go there' },
      { field: 'notify.channels[1]', problem: 'the bot token goes before the host: telegram://123456:ABC-DEF@api.telegram.org?chats=…' },
      { field: 'notify.channels[1]', problem: 'chats= must list at least one chat id (a number, or @channel)' },
      { field: 'notify.repeat_interval', problem: 'must be at least 1m, got "10s"' },
      { field: 'notify.send_resolved', problem: 'must be true or false, got "yes"' },
    ]);
    expect(validateRule({ id: 'a', metric: 'cpu_pct', threshold: 80, notify: { channels: 'ntfy://x/t' } })).toEqual([
      { field: 'notify.channels', problem: 'must be a list of at most 20 channel URLs, got "ntfy://x/t"' },
    ]);
    expect(validateRule({ id: 'a', metric: 'cpu_pct', threshold: 80, notify: { min_interval: '1m', group_interval: '2m' } })).toEqual([
      { field: 'notify.min_interval', problem: 'is the older name of group_interval: give one of them' },
    ]);
    expect(
      validateRule({
        id: 'a',
        metric: 'cpu_pct',
        threshold: 80,
        notify: { webhook: 'https://h.example/x', ntfy: 'http://192.168.1.2:2586/fleet', min_interval: '0s' },
      }),
    ).toEqual([]);
  });

  it('compiles the older fields into channels, and fills in the grouping defaults', () => {
    expect(
      compileRule({ id: 'a', metric: 'cpu_pct', threshold: 80, notify: { webhook: 'https://h.example/x', ntfy: 'http://u:p@192.168.1.2:2586/fleet' } }).notify,
    ).toEqual({
      channels: ['https://h.example/x', 'ntfy://u:p@192.168.1.2:2586/fleet?scheme=http'],
      groupWaitMs: 10_000,
      groupIntervalMs: 300_000,
      repeatIntervalMs: 14_400_000,
      sendResolved: true,
    });
    // An older file's min_interval "0s" (every transition at once) still means that: no wait either.
    expect(
      compileRule({ id: 'a', metric: 'cpu_pct', threshold: 80, notify: { channels: ['ntfy://ntfy.sh/t', 'ntfy://ntfy.sh/t'], min_interval: '0s' } }).notify,
    ).toMatchObject({
      channels: ['ntfy://ntfy.sh/t'],
      groupWaitMs: 0,
      groupIntervalMs: 0,
    });
  });
});
