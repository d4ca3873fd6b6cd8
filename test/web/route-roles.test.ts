// Every route of the web tier against nobody, a viewer, an operator and an admin, over real HTTP:
// the app exactly as the hub builds it (real broker, SQLite store, alarm engine, sessions, node
// enrolment, logins on a real auth.db, the coordinator proxy in place), its routes enumerated from
// the table they declare their role in (web/route-roles.ts). The table itself is checked against
// README's Security section, written out below, and against the app: a route of the app with no
// line in the table fails here.
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hono } from 'hono';
import { openAuthDb } from '../../auth/auth-db.ts';
import { MqttCredentials } from '../../auth/mqtt-credentials.ts';
import { WebUsers, type WebRole } from '../../auth/web-users.ts';
import { HubService } from '../../cli/hub-service.ts';
import { createApp } from '../../web/app.ts';
import { NodeTags } from '../../hub/nodes/node-tags.ts';
import { NodeRemoval } from '../../hub/nodes/node-removal.ts';
import type { SqliteStore } from '../../hub/storage/sqlite/sqlite-store.ts';
import { createWebAuth } from '../../web/auth/web-auth.ts';
import { DECLARED_ROUTES, PASS_THROUGH_PATHS, declaredRoute, type DeclaredRoute } from '../../web/route-roles.ts';
import { listen } from '../../web/server.ts';
import { cleanup, quietLog, runCleanups, startBroker, tempDir } from '../helpers/parts.ts';

afterAll(runCleanups);

const CALLERS = ['nobody', 'viewer', 'operator', 'admin'] as const;
type CallerName = (typeof CALLERS)[number];
const RANK: Record<WebRole, number> = { viewer: 0, operator: 1, admin: 2 };

interface Answer {
  status: number;
  location: string | undefined;
  body: string;
}

let app: Hono;
let base: string;
const tokens = {} as Record<Exclude<CallerName, 'nobody'>, string>;

beforeAll(async () => {
  const { url: brokerUrl } = await startBroker();
  const dataDir = tempDir();
  const db = openAuthDb(dataDir);
  cleanup(() => {
    db.close();
  });
  const users = new WebUsers(db);
  const credentials = new MqttCredentials(db);
  const auth = createWebAuth({ users });
  const hub = new HubService({ brokerUrl, dataDir, httpPort: 0, log: quietLog, webAuth: auth, nodeCredentials: credentials });
  await hub.start();
  cleanup(() => hub.stop());
  // The hub's own app, built again here so that its routes can be listed; with every optional part.
  app = createApp({
    store: hub.store,
    feed: hub.feed,
    deploy: { brokerUrl },
    alarms: hub.alarms!,
    sessions: hub.sessions,
    auth,
    enrolment: credentials,
    coordinator: async () => 'self',
    nodeRemoval: new NodeRemoval({
      removeFromStore: (node, o) => (hub.store as SqliteStore).removeNode(node, o, async () => undefined),
      credentials,
      alarms: hub.alarms,
      log: quietLog,
    }),
    nodeTags: new NodeTags({ store: hub.store, log: quietLog }),
  });
  const web = await listen(app, 0, '127.0.0.1');
  cleanup(() => web.close());
  base = `http://127.0.0.1:${web.port}`;
  for (const role of ['viewer', 'operator', 'admin'] as const) tokens[role] = users.addApiToken(`script-${role}`, role).token;
});

/** One request as `caller`; an event stream is cut off once its head arrived. */
function send(caller: CallerName, method: string, path: string): Promise<Answer> {
  const body = method === 'GET' ? undefined : '{}';
  const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(body.length) };
  if (caller !== 'nobody') headers['authorization'] = `Bearer ${tokens[caller]}`;
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      const answer = (text: string) => resolve({ status: res.statusCode!, location: res.headers.location, body: text });
      if (res.headers['content-type']?.startsWith('text/event-stream')) {
        answer('');
        res.destroy();
        return;
      }
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text = (text + chunk).slice(0, 2000)));
      res.on('end', () => answer(text));
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${path}: no answer within 10 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** A concrete path for a route's pattern: parameters get names nothing has. */
function samplePath(route: DeclaredRoute): string {
  if (route.path === '/assets/*') return '/assets/alarms.css';
  return route.path
    .replace(/:node\b/g, 'no-such-node')
    .replace(/:name\b/g, 'nginx')
    .replace(/:id\b/g, 'no-such-id')
    .replace(/\*$/, 'no-such-route');
}

const isApi = (path: string) => path.startsWith('/api/') || path === '/metrics';

/** What the auth layer answers when it refuses, as opposed to anything a route answers. */
function refusal(a: Answer): 'log in' | WebRole | null {
  if (a.status === 401 && a.body.includes('log in first')) return 'log in';
  if (a.status === 302 && a.location?.startsWith('/login?next=')) return 'log in';
  const needs = /needs (viewer|operator|admin)"/.exec(a.body);
  if (a.status === 403 && needs) return needs[1] as WebRole;
  return null;
}

/** Neither the API's catch-all nor Hono's own 404: some route answered. */
const reachedARoute = (a: Answer) => !(a.status === 404 && (a.body.includes('no API route') || a.body === '404 Not Found'));

/**
 * README, Security: "viewers read, operators also send commands, start and stop sessions and
 * acknowledge alarms, admins also enrol nodes"; alarm rules (which say where notifications go) are
 * for admins, silences go with acknowledging. Public: the login page and what it loads, health and
 * the one-line join (the agent, and `remonitor record` for CI jobs).
 */
function documentedAccess(method: string, path: string): DeclaredRoute['access'] | 'undocumented' {
  const PUBLIC = [
    'GET /login',
    'GET /assets/login-page.js',
    'GET /assets/style.css',
    'GET /assets/theme-boot.js',
    'POST /api/login',
    'POST /api/logout',
    'GET /healthz',
    'GET /install.sh',
    'GET /agent/remonitor-agent.mjs',
    'GET /agent/remonitor-agent.sh',
    'GET /agent/remonitor-record.mjs',
  ];
  if (PUBLIC.includes(`${method} ${path}`)) return 'public';
  if (path === '/api/*') return 'not-found';
  if (method === 'GET' || path === '/assets/*') return 'viewer';
  if (
    path.startsWith('/api/enrolments') ||
    path.startsWith('/api/alarms/rules') ||
    path.startsWith('/api/alarms/channels') ||
    ['DELETE /api/nodes/:node', 'PUT /api/nodes/:node/tags'].includes(`${method} ${path}`)
  )
    return 'admin';
  const operator = [/^\/api\/nodes\/:node\/commands$/, /^\/api\/sessions(\/|$)/, /^\/api\/alarms\/ack$/, /^\/api\/alarms\/silences?(\/|$)/];
  if (operator.some((re) => re.test(path))) return 'operator';
  return 'undocumented';
}

describe('the route table', () => {
  it('gives every route of the app a role, and every line its own route', () => {
    const declared = new Set(DECLARED_ROUTES.map((r) => `${r.method} ${r.path}`));
    const appRoutes = app.routes.filter((r) => !(r.method === 'ALL' && PASS_THROUGH_PATHS.includes(r.path)));
    const undeclared = appRoutes.map((r) => `${r.method} ${r.path}`).filter((key) => !declared.has(key));
    expect(undeclared).toEqual([]);
    expect(appRoutes.length).toBeGreaterThan(40); // the whole app was listed, not a part of it
    // No line is shadowed by one above it: its own sample path reaches it.
    for (const route of DECLARED_ROUTES)
      expect(declaredRoute(route.method === 'ALL' ? 'GET' : route.method, samplePath(route)), `${route.method} ${route.path}`).toBe(route);
  });

  it('says what README says', () => {
    for (const route of DECLARED_ROUTES) expect(route.access, `${route.method} ${route.path}`).toBe(documentedAccess(route.method, route.path));
  });
});

describe.each(DECLARED_ROUTES.filter((r) => r.access !== 'not-found'))('$method $path ($access)', (route) => {
  const method = route.method === 'ALL' ? 'GET' : route.method;
  const path = samplePath(route);
  it.each(CALLERS)('as %s', async (caller) => {
    const answer = await send(caller, method, path);
    const allowed = route.access === 'public' || (caller !== 'nobody' && RANK[caller] >= RANK[route.access as WebRole]);
    if (allowed) {
      expect(refusal(answer), `${answer.status} ${answer.body}`).toBeNull();
      expect(reachedARoute(answer), `${answer.status} ${answer.body}`).toBe(true);
    } else if (caller === 'nobody') {
      expect(answer.status).toBe(isApi(path) || method !== 'GET' ? 401 : 302);
      expect(refusal(answer)).toBe('log in');
    } else {
      expect(answer.status).toBe(403);
      expect(refusal(answer)).toBe(route.access);
    }
  });
});

describe('a path no route declares', () => {
  it.each([
    ['GET', '/api/no-such-route', { nobody: 401, viewer: 404, operator: 404, admin: 404 }],
    ['POST', '/api/no-such-route', { nobody: 401, viewer: 403, operator: 403, admin: 404 }],
    ['DELETE', '/api/alarms/no-such-route', { nobody: 401, viewer: 403, operator: 403, admin: 404 }],
    ['GET', '/no-such-page', { nobody: 302, viewer: 404, operator: 404, admin: 404 }],
    ['PUT', '/no-such-page', { nobody: 401, viewer: 403, operator: 403, admin: 404 }],
    // Trick spellings reach no route, for the check as for the app.
    ['DELETE', '//api/alarms/rules/cpu', { nobody: 401, viewer: 403, operator: 403, admin: 404 }],
    ['DELETE', '/API/alarms/rules/cpu', { nobody: 401, viewer: 403, operator: 403, admin: 404 }],
  ] as const)('%s %s: read by a viewer, changed by an admin only (a route without a line is closed)', async (method, path, expected) => {
    for (const caller of CALLERS) expect((await send(caller, method, path)).status, caller).toBe(expected[caller]);
  });

  it('lets an operator not change a rule by another spelling of its path', async () => {
    const rule = await send('viewer', 'GET', '/api/alarms/rules/cpu');
    expect(rule.status).toBe(200);
    for (const path of ['/api/alarms/rules/cpu', '/api/alarms/rules/%63pu', '/api/alarms/./rules/cpu', '/api/alarms/x/../rules/cpu']) {
      expect((await send('operator', 'DELETE', path)).status, path).toBe(403);
    }
    expect((await send('viewer', 'GET', '/api/alarms/rules/cpu')).body).toBe(rule.body);
  });
});
