// Who may call each route of the web tier: one line per route, method and path written exactly as
// the route registers them. The auth middleware (web/auth/auth-middleware.ts) decides every request
// from this table, matched by the same router Hono routes with, and test/web/route-roles.test.ts
// sends every line to the real app as nobody, a viewer, an operator and an admin, and fails on a
// route of the app that has no line here.
//
// As README's Security section says: viewers read; operators also send commands, start and stop
// sessions, and acknowledge and silence alarms; admins also enrol nodes, edit their tags and change
// alarm rules (which say where notifications go).
import { METHOD_NAME_ALL, type Router } from 'hono/router';
import { RegExpRouter } from 'hono/router/reg-exp-router';
import { SmartRouter } from 'hono/router/smart-router';
import { TrieRouter } from 'hono/router/trie-router';
import type { WebRole } from '../auth/web-users.ts';
import { COORDINATED_PATHS } from './coordinator-proxy.ts';

/**
 * `public`: no login. A role: that role or a higher one. `not-found`: a catch-all that only answers
 * 404, judged like a path no route declares (see `neededRole`).
 */
export type RouteAccess = 'public' | WebRole | 'not-found';

export interface DeclaredRoute {
  /** Upper case as Hono registers it; `ALL` for `app.all` and `app.use`. */
  method: string;
  /** The pattern exactly as registered (`/api/nodes/:node`, `/assets/*`). */
  path: string;
  access: RouteAccess;
}

// First match wins, so a line sits above any broader one it narrows (the login page's assets above
// `/assets/*`, everything above the `/api/*` catch-all).
const TABLE: Record<string, RouteAccess> = {
  // The login page and what it loads, health, logging in and out.
  'GET /login': 'public',
  'GET /assets/login-page.js': 'public',
  'GET /assets/style.css': 'public',
  'GET /assets/theme-boot.js': 'public',
  'POST /api/login': 'public',
  'POST /api/logout': 'public',
  'GET /healthz': 'public',
  // The one-line join: a Pi (or a CI job, for `remonitor record`) fetches these with curl before it
  // has any credential; none holds a secret.
  'GET /install.sh': 'public',
  'GET /agent/remonitor-agent.mjs': 'public',
  'GET /agent/remonitor-record.mjs': 'public',
  'GET /agent/remonitor-agent.sh': 'public',

  'GET /api/me': 'viewer',
  'GET /api/nodes': 'viewer',
  'GET /api/nodes/:node': 'viewer',
  'GET /api/nodes/:node/series': 'viewer',
  'GET /api/nodes/:node/export': 'viewer',
  'GET /api/nodes/:node/labelled': 'viewer',
  'GET /api/nodes/:node/labelled/:metric': 'viewer',
  'GET /api/stream': 'viewer',
  'GET /metrics': 'viewer',
  'GET /api/alarms': 'viewer',
  'GET /api/alarms/rules': 'viewer',
  'GET /api/alarms/rules/:id': 'viewer',
  'GET /api/alarms/silences': 'viewer',
  'GET /api/commands/:id': 'viewer',
  'GET /api/nodes/:node/control': 'viewer',
  'GET /api/sessions': 'viewer',
  'GET /api/sessions/:id': 'viewer',
  'GET /api/sessions/:id/export': 'viewer',
  'GET /api/processes': 'viewer',
  'GET /api/processes/:node/:name/history': 'viewer',
  'GET /': 'viewer',
  'GET /nodes/:node': 'viewer',
  'GET /sessions': 'viewer',
  'GET /sessions/:id': 'viewer',
  'GET /alarms': 'viewer',
  'ALL /assets/*': 'viewer',

  'POST /api/nodes/:node/commands': 'operator',
  'POST /api/sessions': 'operator',
  'POST /api/sessions/:id/stop': 'operator',
  'POST /api/alarms/ack': 'operator',
  'POST /api/alarms/silence': 'operator',
  'DELETE /api/alarms/silences/:id': 'operator',

  'POST /api/enrolments': 'admin',
  'DELETE /api/nodes/:node': 'admin',
  'PUT /api/nodes/:node/tags': 'admin',
  'POST /api/alarms/rules': 'admin',
  'PUT /api/alarms/rules': 'admin',
  'PUT /api/alarms/rules/:id': 'admin',
  'DELETE /api/alarms/rules/:id': 'admin',
  'POST /api/alarms/channels/test': 'admin',

  'ALL /api/*': 'not-found',
};

export const DECLARED_ROUTES: readonly DeclaredRoute[] = Object.freeze(
  Object.entries(TABLE).map(([key, access]) => {
    const [method, path] = key.split(' ') as [string, string];
    return Object.freeze({ method, path, access });
  }),
);

/**
 * `app.use` registrations that only pass a request on or forward it (body limit, auth, the proxy to
 * the coordinating hub, which checks again): the route behind them decides.
 */
export const PASS_THROUGH_PATHS: readonly string[] = ['/*', ...COORDINATED_PATHS];

// The router Hono itself uses by default, so a path means here what it means to the app.
const router: Router<DeclaredRoute> = new SmartRouter({ routers: [new RegExpRouter(), new TrieRouter()] });
for (const route of DECLARED_ROUTES) router.add(route.method === 'ALL' ? METHOD_NAME_ALL : route.method, route.path, route);

/** The declared route a request reaches, or null when none does. `path` as Hono routes it (`c.req.path`). */
export function declaredRoute(method: string, path: string): DeclaredRoute | null {
  // Hono answers HEAD with its GET route.
  const [matches] = router.match(method === 'HEAD' ? 'GET' : method, path);
  return matches[0]?.[0] ?? null;
}

/**
 * The role a request needs, or null when it is public. A path no route declares (or a catch-all)
 * needs a viewer to read and an admin to change anything: a route added without a line here is
 * then closed to all but admins until it gets one, and the route test fails meanwhile.
 */
export function neededRole(method: string, path: string, isSafeMethod: boolean): WebRole | null {
  const access = declaredRoute(method, path)?.access ?? 'not-found';
  if (access === 'public') return null;
  if (access === 'not-found') return isSafeMethod ? 'viewer' : 'admin';
  return access;
}
