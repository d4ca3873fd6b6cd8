// Logins, roles and CSRF of the web tier over real HTTP: the app with a real WebUsers on a temp
// auth.db, a real SQLite store, listening on an ephemeral port. Raw paths go out through
// node:http, which (unlike fetch) sends `//api` and `/api/../api` exactly as written.
import { execFileSync } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openAuthDb } from '../../auth/auth-db.ts';
import { WebUsers, type WebRole } from '../../auth/web-users.ts';
import { HubService } from '../../cli/hub-service.ts';
import { LiveFeed } from '../../hub/live-feed.ts';
import { openSqliteStore } from '../../hub/storage/sqlite/sqlite-store.ts';
import { encodeSample } from '../../protocol/index.ts';
import { createApp } from '../../web/app.ts';
import { createWebAuth } from '../../web/auth/web-auth.ts';
import { normalisePath } from '../../web/auth/paths.ts';
import { listen, type WebTls } from '../../web/server.ts';
import { safeNext } from '../../web/client/safe-next.ts';
import { sampleAt } from '../helpers/fleet-publisher.ts';
import { cleanup, quietLog, runCleanups, startBroker, tempDir } from '../helpers/parts.ts';

afterEach(runCleanups);

const PASSWORDS: Record<WebRole, string> = { viewer: 'viewer-pass-1', operator: 'operator-pass-1', admin: 'admin-pass-123' };
const NODE = 'secret-node-7';

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request with the path sent byte for byte as given. */
function raw(base: string, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Raw> {
  const url = new URL(base);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        headers: { ...headers, ...(body === undefined ? {} : { 'content-length': Buffer.byteLength(body) }) },
        rejectUnauthorized: false,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk.length + text.length > 200_000 ? '' : chunk));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
      },
    );
    req.setTimeout(5000, () => req.destroy(new Error(`${method} ${path}: no answer within 5 s`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

const setCookies = (r: Raw) => (r.headers['set-cookie'] ?? []) as string[];
const cookieValue = (r: Raw, name: string) =>
  setCookies(r)
    .find((c) => c.startsWith(`${name}=`))
    ?.split(';')[0]
    ?.slice(name.length + 1);

interface Session {
  cookie: string;
  csrf: string;
  login: Raw;
}

async function logIn(base: string, name: string, password: string, headers: Record<string, string> = {}): Promise<Session> {
  const login = await raw(base, 'POST', '/api/login', { 'content-type': 'application/json', ...headers }, JSON.stringify({ name, password }));
  const session = cookieValue(login, 'rm_session');
  const csrf = cookieValue(login, 'rm_csrf');
  return { cookie: `rm_session=${session}; rm_csrf=${csrf}`, csrf: decodeURIComponent(csrf ?? ''), login };
}

async function startAuthApp(tls?: WebTls) {
  const dir = tempDir();
  const db = openAuthDb(dir);
  cleanup(() => {
    db.close();
  });
  const users = new WebUsers(db);
  for (const role of ['viewer', 'operator', 'admin'] as const) await users.addUser(role, role, PASSWORDS[role]);
  const store = openSqliteStore(join(dir, 'metrics.db'));
  cleanup(() => store.close());
  const s = sampleAt(1, Date.now());
  store.insertBatch([{ node: NODE, sample: s, raw: encodeSample(s) }]);
  let nowMs = Date.now();
  const clock = { advance: (ms: number) => (nowMs += ms) };
  const auth = createWebAuth({ users, now: () => nowMs, sessionTtlMs: 3_600_000 });
  const web = await listen(createApp({ store, feed: new LiveFeed(), auth }), 0, '127.0.0.1', tls);
  cleanup(() => web.close());
  return { base: `${tls ? 'https' : 'http'}://127.0.0.1:${web.port}`, users, clock };
}

describe('without a login', () => {
  const API_TRICKS = [
    '/api/nodes',
    '//api/nodes',
    '///api//nodes',
    '/api/../api/nodes',
    '/./api/nodes',
    '/API/nodes',
    '/Api/Nodes',
    '/api/nodes/',
    '/api/%6eodes',
    '/%61pi/nodes',
    '/api%2Fnodes',
    '/api/nodes%2F',
    '/api/%2e%2e/api/nodes',
    '/login/../api/nodes',
    '/healthz/../api/nodes',
    '/assets/../api/nodes',
    '/assets/login-page.js/../../api/nodes',
    '/agent/..%2f..%2fapi/nodes',
    '/install.sh/..;/api/nodes',
    '/api/login/../nodes',
    `/api/nodes/${NODE}`,
    `/api/nodes/${NODE}/series`,
    `/api/nodes/${NODE}/export`,
    '/api/stream',
    '/metrics',
    '/METRICS',
    '//metrics',
    '/api/me',
  ];

  it.each(API_TRICKS)('GET %s → 401 JSON or a redirect, never data', async (path) => {
    const { base } = await startAuthApp();
    const res = await raw(base, 'GET', path);
    const apiLike = normalisePath(path).startsWith('/api/') || normalisePath(path) === '/metrics';
    if (apiLike) expect(res.status).toBe(401);
    else {
      expect(res.status).toBe(302);
      expect(res.headers.location).toMatch(/^\/login\?next=/);
    }
    expect(res.body).not.toContain(NODE);
    expect(res.body).not.toContain('remonitor_');
  });

  it.each(['/', '/nodes/x', '/sessions', '/sessions/abc', '/alarms', '//', '/NODES/x', '/assets/fleet-page.js', '/login/', '/Login'])(
    'page %s → 302 to /login?next=…',
    async (path) => {
      const { base } = await startAuthApp();
      const res = await raw(base, 'GET', path);
      expect(res.status).toBe(302);
      expect(res.headers.location).toBe(`/login?next=${encodeURIComponent(path)}`);
    },
  );

  it('serves the public paths: the login page and its assets, health, the installer', async () => {
    const { base } = await startAuthApp();
    for (const path of ['/login', '/assets/style.css', '/assets/login-page.js', '/healthz', '/install.sh']) {
      const res = await raw(base, 'GET', path, { host: '127.0.0.1' });
      expect(res.status, path).toBe(200);
    }
    expect((await raw(base, 'GET', '/login')).body).toContain('id="login"');
    // The agent bundle is public too (present once built): never a login redirect.
    expect([200, 404]).toContain((await raw(base, 'GET', '/agent/remonitor-agent.mjs')).status);
  });

  it('refuses state-changing requests with 401', async () => {
    const { base } = await startAuthApp();
    for (const [method, path] of [
      ['POST', '/api/alarms/ack'],
      ['POST', `//api/nodes/${NODE}/commands`],
      ['DELETE', '/api/alarms/rules/x'],
      ['PUT', '/api/alarms/rules/x'],
      ['POST', '/'],
    ]) {
      const res = await raw(base, method!, path!, { 'content-type': 'application/json' }, '{}');
      expect(res.status, `${method} ${path}`).toBe(401);
    }
  });
});

describe('login and sessions', () => {
  it('logs in, sets the cookie flags, reads the API and /api/me', async () => {
    const { base } = await startAuthApp();
    const s = await logIn(base, 'viewer', PASSWORDS.viewer);
    expect(s.login.status).toBe(200);
    expect(JSON.parse(s.login.body)).toEqual({ name: 'viewer', role: 'viewer' });
    const sessionCookie = setCookies(s.login).find((c) => c.startsWith('rm_session='))!;
    expect(sessionCookie).toMatch(/; HttpOnly/);
    expect(sessionCookie).toMatch(/; SameSite=Strict/);
    expect(sessionCookie).toMatch(/; Path=\//);
    expect(sessionCookie).not.toMatch(/; Secure/); // plain HTTP here: a Secure cookie would never come back
    const csrfCookie = setCookies(s.login).find((c) => c.startsWith('rm_csrf='))!;
    expect(csrfCookie).not.toMatch(/HttpOnly/); // the page's JS reads it
    expect(csrfCookie).toMatch(/; SameSite=Strict/);

    const nodes = await raw(base, 'GET', '/api/nodes', { cookie: s.cookie });
    expect(nodes.status).toBe(200);
    expect(nodes.body).toContain(NODE);
    expect(JSON.parse((await raw(base, 'GET', '/api/me', { cookie: s.cookie })).body)).toEqual({ name: 'viewer', role: 'viewer', via: 'session' });
    expect((await raw(base, 'GET', '/', { cookie: s.cookie })).status).toBe(200);
  });

  it('marks the cookies Secure when the request came over HTTPS', async () => {
    const dir = tempDir();
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
      { stdio: 'ignore' },
    );
    const { readFileSync } = await import('node:fs');
    const { base } = await startAuthApp({ cert: readFileSync(join(dir, 'cert.pem')), key: readFileSync(join(dir, 'key.pem')) });
    const s = await logIn(base, 'viewer', PASSWORDS.viewer);
    expect(s.login.status).toBe(200);
    for (const c of setCookies(s.login)) expect(c).toMatch(/; Secure/);
    expect((await raw(base, 'GET', '/api/nodes', { cookie: s.cookie })).status).toBe(200);
  });

  it('refuses a wrong password and an unknown user alike', async () => {
    const { base } = await startAuthApp();
    const wrong = await logIn(base, 'viewer', 'not-the-password');
    const unknown = await logIn(base, 'nobody', 'not-the-password');
    expect(wrong.login.status).toBe(401);
    expect(unknown.login.status).toBe(401);
    expect(wrong.login.body).toBe(unknown.login.body);
    expect(setCookies(wrong.login)).toEqual([]);
  });

  it('logout clears both cookies', async () => {
    const { base } = await startAuthApp();
    const s = await logIn(base, 'viewer', PASSWORDS.viewer);
    const out = await raw(base, 'POST', '/api/logout', { cookie: s.cookie, 'x-csrf-token': s.csrf });
    expect(out.status).toBe(200);
    for (const name of ['rm_session', 'rm_csrf']) expect(setCookies(out).find((c) => c.startsWith(`${name}=`))).toMatch(/^[a-z_]+=; Max-Age=0/);
  });

  it('refuses a tampered, a foreign-signed and an expired cookie, a removed user, and a session older than the password', async () => {
    const { base, clock, users } = await startAuthApp();
    const s = await logIn(base, 'viewer', PASSWORDS.viewer);
    const signed = decodeURIComponent(s.cookie.match(/rm_session=([^;]*)/)![1]!);
    const [payload, signature] = signed.split('.') as [string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const promoted = Buffer.from(JSON.stringify({ ...claims, r: 'admin' })).toString('base64url');
    for (const forged of [`${promoted}.${signature}`, `${payload}.${signature.slice(0, -3)}AAA`, payload, `${promoted}.`]) {
      const res = await raw(base, 'GET', '/api/nodes', { cookie: `rm_session=${encodeURIComponent(forged)}` });
      expect(res.status, forged).toBe(401);
    }
    expect((await raw(base, 'GET', '/api/nodes', { cookie: s.cookie })).status).toBe(200);
    clock.advance(3_600_001);
    expect((await raw(base, 'GET', '/api/nodes', { cookie: s.cookie })).status).toBe(401);
    expect((await raw(base, 'GET', '/', { cookie: s.cookie })).status).toBe(302);

    const fresh = await logIn(base, 'operator', PASSWORDS.operator);
    users.removeUser('operator');
    expect((await raw(base, 'GET', '/api/nodes', { cookie: fresh.cookie })).status).toBe(401);
    const admin = await logIn(base, 'admin', PASSWORDS.admin);
    expect((await raw(base, 'GET', '/api/nodes', { cookie: admin.cookie })).status).toBe(200);
    await users.setPassword('admin', 'a-new-admin-password');
    expect((await raw(base, 'GET', '/api/nodes', { cookie: admin.cookie })).status).toBe(401);
  });
});

describe('several web processes over one database', () => {
  it('accepts a session made by another app over the same auth.db', async () => {
    const dir = tempDir();
    const apps: string[] = [];
    for (let i = 0; i < 2; i++) {
      const db = openAuthDb(dir);
      cleanup(() => {
        db.close();
      });
      const users = new WebUsers(db);
      if (i === 0) await users.addUser('viewer', 'viewer', PASSWORDS.viewer);
      const store = openSqliteStore(join(dir, `metrics-${i}.db`));
      cleanup(() => store.close());
      const web = await listen(createApp({ store, feed: new LiveFeed(), auth: createWebAuth({ users }) }), 0);
      cleanup(() => web.close());
      apps.push(`http://127.0.0.1:${web.port}`);
    }
    const s = await logIn(apps[0]!, 'viewer', PASSWORDS.viewer);
    expect((await raw(apps[1]!, 'GET', '/api/me', { cookie: s.cookie })).body).toContain('"name":"viewer"');
  });
});

describe('CSRF', () => {
  const post = (base: string, headers: Record<string, string>) =>
    raw(base, 'POST', `/api/nodes/${NODE}/commands`, { 'content-type': 'application/json', ...headers }, '{"action":"ping"}');

  it('lets a same-origin request with the token through, and refuses a cross-site one', async () => {
    const { base } = await startAuthApp();
    const s = await logIn(base, 'operator', PASSWORDS.operator);
    const other = await logIn(base, 'admin', PASSWORDS.admin);
    // Through: no command route in this app, so the API's own 404 answers.
    const ok = await post(base, { cookie: s.cookie, 'x-csrf-token': s.csrf, origin: base, 'sec-fetch-site': 'same-origin' });
    expect(ok.status).toBe(404);
    const refused: [string, Record<string, string>][] = [
      ['no token', { cookie: s.cookie }],
      ['a wrong token', { cookie: s.cookie, 'x-csrf-token': 'x'.repeat(43) }],
      ["another session's token", { cookie: s.cookie, 'x-csrf-token': other.csrf }],
      ['a foreign Origin', { cookie: s.cookie, 'x-csrf-token': s.csrf, origin: 'http://evil.example' }],
      ['Origin null', { cookie: s.cookie, 'x-csrf-token': s.csrf, origin: 'null' }],
      ['Sec-Fetch-Site cross-site', { cookie: s.cookie, 'x-csrf-token': s.csrf, 'sec-fetch-site': 'cross-site' }],
      ['Sec-Fetch-Site same-site', { cookie: s.cookie, 'x-csrf-token': s.csrf, 'sec-fetch-site': 'same-site' }],
    ];
    for (const [what, headers] of refused) {
      const res = await post(base, headers);
      expect(res.status, what).toBe(403);
      expect(JSON.parse(res.body).error, what).toMatch(/cross-site/);
    }
  });

  it('refuses a cross-site login', async () => {
    const { base } = await startAuthApp();
    const s = await logIn(base, 'viewer', PASSWORDS.viewer, { origin: 'http://evil.example' });
    expect(s.login.status).toBe(403);
  });
});

describe('login rate limit', () => {
  it('answers 429 with Retry-After after 5 failures, refuses the right password while blocked, and lets it in after the wait', async () => {
    const { base, clock } = await startAuthApp();
    for (let i = 0; i < 5; i++) expect((await logIn(base, 'operator', `guess-${i}`)).login.status).toBe(401);
    const blocked = await logIn(base, 'operator', 'guess-5');
    expect(blocked.login.status).toBe(429);
    const retryAfter = Number(blocked.login.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    const right = await logIn(base, 'operator', PASSWORDS.operator);
    expect(right.login.status).toBe(429);
    expect(setCookies(right.login)).toEqual([]);
    // The same address is blocked for other names too.
    expect((await logIn(base, 'viewer', PASSWORDS.viewer)).login.status).toBe(429);
    clock.advance(retryAfter * 1000);
    expect((await logIn(base, 'operator', PASSWORDS.operator)).login.status).toBe(200);
  });
});

describe('API tokens', () => {
  it('reads /api/nodes and /metrics with a bearer token, skips CSRF, and refuses a revoked one', async () => {
    const { base, users } = await startAuthApp();
    const { id, token } = users.addApiToken('prometheus', 'viewer');
    const bearer = { authorization: `Bearer ${token}` };
    const nodes = await raw(base, 'GET', '/api/nodes', bearer);
    expect(nodes.status).toBe(200);
    expect(nodes.body).toContain(NODE);
    const metrics = await raw(base, 'GET', '/metrics', bearer);
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain(NODE);
    // A viewer token cannot change anything; an operator token needs no CSRF token.
    expect((await raw(base, 'POST', '/api/alarms/ack', { ...bearer, 'content-type': 'application/json' }, '{}')).status).toBe(403);
    const op = users.addApiToken('script', 'operator');
    expect((await raw(base, 'POST', '/api/alarms/ack', { authorization: `Bearer ${op.token}`, 'content-type': 'application/json' }, '{}')).status).toBe(404);

    users.revokeApiToken(id);
    expect((await raw(base, 'GET', '/api/nodes', bearer)).status).toBe(401);
    expect((await raw(base, 'GET', '/metrics', bearer)).status).toBe(401);
    expect((await raw(base, 'GET', '/api/nodes', { authorization: 'Bearer rmt_made-up' })).status).toBe(401);
    // A bad token is not rescued by a good cookie.
    const s = await logIn(base, 'viewer', PASSWORDS.viewer);
    expect((await raw(base, 'GET', '/api/nodes', { ...bearer, cookie: s.cookie })).status).toBe(401);
  });
});

describe('body size cap', () => {
  const big = JSON.stringify({ name: 'x', password: 'y'.repeat(100 * 1024) });

  it('answers 413 JSON past 64 KB, with and without logins', async () => {
    const { base } = await startAuthApp();
    const res = await raw(base, 'POST', '/api/login', { 'content-type': 'application/json' }, big);
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).error).toMatch(/larger than 65536 bytes/);

    // Chunked, with no Content-Length to trust: counted as it arrives.
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${base}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      for (let i = 0; i < 10; i++) req.write('x'.repeat(10 * 1024));
      req.end();
    });
    expect(chunked).toBe(413);

    const dir = tempDir();
    const store = openSqliteStore(join(dir, 'm.db'));
    cleanup(() => store.close());
    const open = await listen(createApp({ store, feed: new LiveFeed() }), 0);
    cleanup(() => open.close());
    const openRes = await raw(`http://127.0.0.1:${open.port}`, 'POST', '/api/alarms/ack', { 'content-type': 'application/json' }, big);
    expect(openRes.status).toBe(413);
  });
});

describe('roles on the real command route', () => {
  it('refuses a viewer command with 403 and lets an operator reach the bridge', async () => {
    const { url } = await startBroker();
    const dataDir = tempDir();
    const db = openAuthDb(dataDir);
    cleanup(() => {
      db.close();
    });
    const users = new WebUsers(db);
    await users.addUser('viewer', 'viewer', PASSWORDS.viewer);
    await users.addUser('operator', 'operator', PASSWORDS.operator);
    const hub = new HubService({ brokerUrl: url, dataDir, httpPort: 0, log: quietLog, alarms: false, webAuth: createWebAuth({ users }) });
    await hub.start();
    cleanup(() => hub.stop());
    const base = `http://127.0.0.1:${hub.httpPort}`;
    const body = '{"action":"ping"}';

    const viewer = await logIn(base, 'viewer', PASSWORDS.viewer);
    const refused = await raw(
      base,
      'POST',
      '/api/nodes/pi-1/commands',
      { cookie: viewer.cookie, 'x-csrf-token': viewer.csrf, 'content-type': 'application/json' },
      body,
    );
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body).error).toMatch(/viewer.*needs operator/);
    const stop = await raw(base, 'POST', '/api/sessions/abc/stop', { cookie: viewer.cookie, 'x-csrf-token': viewer.csrf });
    expect(stop.status).toBe(403);

    const operator = await logIn(base, 'operator', PASSWORDS.operator);
    const allowed = await raw(
      base,
      'POST',
      '/api/nodes/pi-1/commands',
      { cookie: operator.cookie, 'x-csrf-token': operator.csrf, 'content-type': 'application/json' },
      body,
    );
    expect(allowed.status).toBe(404); // the route itself answered: no such node has reported
    expect(JSON.parse(allowed.body).error).toMatch(/no node named "pi-1"/);
  });
});

describe('safeNext (where the login page may go)', () => {
  it.each([
    ['/nodes/pi?x=1', '/nodes/pi?x=1'],
    ['/', '/'],
    [null, '/'],
    ['//evil.com', '/'],
    ['//evil.com/x', '/'],
    ['/\\evil.com', '/'],
    ['https://evil.com/', '/'],
    ['javascript:alert(1)', '/'],
    ['evil.com', '/'],
    ['/login', '/'],
    ['/%2F%2Fevil.com', '/%2F%2Fevil.com'],
  ])('%s → %s', (next, expected) => {
    expect(safeNext(next, 'http://hub.local:8080')).toBe(expected);
  });
});
