// Where alarm notifications may go: the URL as written (checked when a rule is saved, through the
// real API too), and what its name resolves to when a notification is sent, with real HTTP
// receivers on 127.0.0.1 and a real SQLite queue. The names are answered by a fake resolver (named
// so below): the system's resolver cannot be told here to answer 169.254.169.254 for a name.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { AlarmStore } from '../../../hub/storage/sqlite/sqlite-alarm-store.ts';
import { addressProblem, destinationProblem, type Resolver } from '../../../hub/alarms/destination.ts';
import { Notifier } from '../../../hub/alarms/notifier.ts';
import { compileRule, validateRule } from '../../../hub/alarms/rules.ts';
import type { AlarmTransition } from '../../../shared/alarm-types.ts';
import { cleanup, runCleanups, startBroker, startHub, tempDir, waitFor } from '../../helpers/parts.ts';

afterEach(runCleanups);

describe('destinationProblem (the URL as written)', () => {
  it.each([
    'https://ntfy.sh/my-fleet',
    'https://hooks.example/remonitor?token=abc',
    'http://127.0.0.1:2586/alerts', // ntfy on the hub itself
    'http://localhost:8080/message',
    'http://[::1]:8080/x',
    'http://192.168.1.20/gotify', // the LAN
    'http://10.0.0.5:80/x',
    'http://172.16.3.4/x',
    'http://100.101.102.103/x', // a tailnet (100.64/10)
    'http://[fd12:3456::1]/x',
    'https://user:secret@ntfy.example/private-topic',
  ])('allows %s', (url) => {
    expect(destinationProblem(url)).toBeNull();
  });

  it.each([
    ['http://169.254.169.254/latest/meta-data/', /169\.254\.169\.254 is link-local/],
    ['http://169.254.169.254.', /169\.254\.169\.254 is link-local/],
    ['http://2852039166/', /169\.254\.169\.254 is link-local/], // the same address, as one number
    ['http://0xA9FEA9FE/', /169\.254\.169\.254 is link-local/],
    ['http://0251.0376.0251.0376/', /169\.254\.169\.254 is link-local/],
    ['http://169.254.1.1:8080/', /link-local/],
    ['http://[::ffff:169.254.169.254]/', /link-local/],
    ['http://[64:ff9b::a9fe:a9fe]/', /link-local/], // NAT64
    ['http://[fe80::1]/', /link-local/],
    ['http://[fd00:ec2::254]/', /cloud metadata/],
    ['http://100.100.100.200/latest/meta-data', /cloud metadata/],
    ['http://metadata.google.internal/computeMetadata/v1/', /metadata\.google\.internal is a cloud metadata service/],
    ['http://METADATA.google.internal./', /cloud metadata/],
    ['http://metadata/', /cloud metadata/],
    ['http://0.0.0.0:8080/', /0\.0\.0\.0 is an unspecified address/],
    ['http://0/', /unspecified/],
    ['http://[::]:8080/', /unspecified/],
    ['http://224.0.0.1/', /multicast/],
    ['http://[ff02::1]/', /multicast/],
    ['http://255.255.255.255/', /broadcast/],
    ['file:///etc/passwd', /must be an http\(s\) URL/],
    ['gopher://127.0.0.1:6379/_FLUSHALL', /must be an http\(s\) URL/],
    ['not a url', /must be an http\(s\) URL/],
    [42, /must be an http\(s\) URL, got 42/],
  ])('refuses %s', (url, reason) => {
    expect(destinationProblem(url)).toMatch(reason);
  });

  it('judges resolved addresses alike', () => {
    expect(addressProblem('169.254.169.254')).toMatch(/link-local/);
    expect(addressProblem('::ffff:a9fe:a9fe')).toMatch(/link-local/);
    expect(addressProblem('127.0.0.1')).toBeNull();
    expect(addressProblem('192.168.0.2')).toBeNull();
  });

  it('names the field of a rule', () => {
    expect(
      validateRule({ id: 'cpu', metric: 'cpu_pct', threshold: 80, notify: { webhook: 'http://169.254.169.254/x', ntfy: 'http://metadata.google.internal/t' } }),
    ).toEqual([
      {
        field: 'notify.webhook',
        problem: '169.254.169.254 is link-local, where cloud metadata services answer (169.254.169.254); notifications may not go there',
      },
      { field: 'notify.ntfy', problem: 'metadata.google.internal is a cloud metadata service; notifications may not go there' },
    ]);
  });
});

describe('rules saved through the API', () => {
  it('answers 400 naming the field and why, and saves a LAN destination', async () => {
    const { url } = await startBroker();
    const { api } = await startHub(url); // no logins: loopback only
    const post = (rule: unknown, method = 'POST', path = '/api/alarms/rules') =>
      fetch(`${api}${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(rule) });
    const refused = await post({ id: 'meta', metric: 'cpu_pct', threshold: 80, notify: { webhook: 'http://169.254.169.254/latest/meta-data/' } });
    expect(refused.status).toBe(400);
    const body = (await refused.json()) as { error: string; problems: { field: string; problem: string }[] };
    expect(body.problems).toEqual([{ field: 'notify.webhook', problem: expect.stringMatching(/^169\.254\.169\.254 is link-local/) }]);
    expect(body.error).toMatch(/^notify\.webhook: 169\.254\.169\.254 is link-local/);

    const replaced = await post({ metric: 'cpu_pct', threshold: 80, notify: { ntfy: 'http://[::ffff:169.254.169.254]/t' } }, 'PUT', '/api/alarms/rules/cpu');
    expect(replaced.status).toBe(400);
    expect(((await replaced.json()) as { problems: { field: string }[] }).problems.map((p) => p.field)).toEqual(['notify.ntfy']);

    const lan = await post({ id: 'lan', metric: 'cpu_pct', threshold: 80, notify: { ntfy: 'http://192.168.1.20:2586/fleet' } });
    expect(lan.status).toBe(201);
  });
});

interface Call {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A receiver on 127.0.0.1 answering every call with `status` (and `location`, for a redirect). */
async function receiver(status = 204, location?: string): Promise<{ port: number; calls: Call[] }> {
  const calls: Call[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      calls.push({ headers: req.headers, body });
      res.writeHead(status, location ? { location } : {}).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.address() as AddressInfo).port, calls };
}

/** Fake resolver: answers the names of `zone`, and ENOTFOUND for the rest. */
function fakeResolver(zone: Record<string, string[]>): Resolver & { asked: string[] } {
  const asked: string[] = [];
  const resolve: Resolver = (hostname, _options, callback) => {
    asked.push(hostname);
    const addresses = zone[hostname];
    setImmediate(() =>
      addresses
        ? callback(
            null,
            addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
          )
        : callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []),
    );
  };
  return Object.assign(resolve, { asked });
}

/** A notifier on a real queue whose warnings are kept (a real pino logger writing into an array). */
function setup(resolve: Resolver) {
  const warnings: { channel: string; err: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      warnings.push(JSON.parse(chunk.toString()) as { channel: string; err: string });
      done();
    },
  });
  const store = new AlarmStore(join(tempDir(), 'alarms.db'));
  const notifier = new Notifier({ store, log: pino({ level: 'warn' }, sink), pollMs: 20, baseBackoffMs: 60_000, resolve });
  notifier.start();
  cleanup(async () => {
    await notifier.stop();
    store.close();
  });
  return { store, notifier, warnings };
}

const transition: AlarmTransition = {
  ts_ms: Date.now(),
  node: 'pi-1',
  rule_id: 'cpu',
  subject: '',
  metric: 'cpu_pct',
  from: 'ok',
  to: 'red',
  value: 93,
  threshold: 80,
  tt_ms: null,
};
const ruleTo = (webhook: string) => compileRule({ id: 'cpu', metric: 'cpu_pct', threshold: 80, notify: { webhook, group_wait: '0s' } });

describe('at send time', () => {
  it('connects to the address the name was checked at', async () => {
    const hook = await receiver();
    const dns = fakeResolver({ 'hooks.lan': ['127.0.0.1'] });
    const { notifier } = setup(dns);
    notifier.notify(ruleTo(`http://hooks.lan:${hook.port}/hook`), transition, false);
    await waitFor('delivered', () => notifier.stats.delivered === 1, 5000, 20);
    expect(dns.asked).toEqual(['hooks.lan']);
    expect(hook.calls).toHaveLength(1);
    expect(hook.calls[0]!.headers.host).toBe(`hooks.lan:${hook.port}`);
  });

  it.each([
    ['169.254.169.254', ['169.254.169.254'], /hooks\.evil resolves to 169\.254\.169\.254 is link-local/],
    ['an IPv4-mapped metadata address', ['::ffff:169.254.169.254'], /resolves to ::ffff:169\.254\.169\.254 is link-local/],
    ['0.0.0.0 (this host)', ['0.0.0.0'], /resolves to 0\.0\.0\.0 is an unspecified address/],
    ['a good and a bad address', ['127.0.0.1', '169.254.169.254'], /resolves to 169\.254\.169\.254 is link-local/],
  ])('refuses a name that resolves to %s, and never connects', async (_what, addresses, reason) => {
    const hook = await receiver();
    const { notifier, store, warnings } = setup(fakeResolver({ 'hooks.evil': addresses }));
    notifier.notify(ruleTo(`http://hooks.evil:${hook.port}/hook`), transition, false);
    await waitFor('a failed attempt', () => notifier.stats.failedAttempts === 1, 5000, 20);
    expect(warnings[0]!.err).toMatch(/^refused destination: /);
    expect(warnings[0]!.err).toMatch(reason);
    expect(hook.calls).toHaveLength(0);
    expect(await store.pendingDeliveries()).toBe(1); // kept: the name may point elsewhere later
  });

  it('refuses an address queued before the rule could be refused (a queue from an older hub)', async () => {
    const { notifier, store, warnings } = setup(fakeResolver({}));
    await store.enqueue('webhook', 'http://169.254.169.254/latest/meta-data/', '{}', Date.now());
    notifier.pump();
    await waitFor('a failed attempt', () => notifier.stats.failedAttempts === 1, 5000, 20);
    expect(warnings[0]!.err).toBe(
      'refused destination: 169.254.169.254 is link-local, where cloud metadata services answer (169.254.169.254); notifications may not go there',
    );
  });

  it('follows no redirect', async () => {
    const hook = await receiver(302, 'http://169.254.169.254/latest/meta-data/');
    const { notifier, warnings } = setup(fakeResolver({}));
    notifier.notify(ruleTo(`http://127.0.0.1:${hook.port}/hook`), transition, false);
    await waitFor('a failed attempt', () => notifier.stats.failedAttempts === 1, 5000, 20);
    expect(warnings[0]!.err).toBe('HTTP 302 Found (redirects are not followed)');
    expect(hook.calls).toHaveLength(1);
  });

  it('sends a user name and password in the URL as Basic authentication, and keeps them out of the log', async () => {
    const hook = await receiver(401);
    const { notifier, warnings } = setup(fakeResolver({}));
    notifier.notify(ruleTo(`http://alerts:s3cret@127.0.0.1:${hook.port}/hook`), transition, false);
    await waitFor('a failed attempt', () => notifier.stats.failedAttempts === 1, 5000, 20);
    expect(hook.calls[0]!.headers.authorization).toBe(`Basic ${Buffer.from('alerts:s3cret').toString('base64')}`);
    expect(JSON.stringify(warnings)).not.toContain('s3cret');
    // Only scheme and host: a webhook's path or query may hold a token too.
    expect(warnings[0]!.channel).toBe(`http://127.0.0.1:${hook.port}/…`);
  });
});
