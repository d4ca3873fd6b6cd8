// POST /api/login {name, password} → session cookie; POST /api/logout; GET /api/me → {name, role}.
import { getConnInfo } from '@hono/node-server/conninfo';
import { Hono, type Context } from 'hono';
import type { WebUsers } from '../../auth/web-users.ts';
import { crossSiteProblem } from './csrf-check.ts';
import type { LoginLimiter } from './login-limiter.ts';
import { clearSession, issueSession } from './session-cookie.ts';

export interface LoginRouteOptions {
  users: WebUsers;
  secret: Buffer;
  limiter: LoginLimiter;
  /** Session lifetime, ms. */
  sessionTtlMs: number;
  now: () => number;
}

/** The peer's address; a request with no socket (app.request in a test) counts as one "local" peer. */
function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'local';
  } catch {
    return 'local';
  }
}

export function loginRoutes({ users, secret, limiter, sessionTtlMs, now }: LoginRouteOptions): Hono {
  const app = new Hono();

  app.post('/api/login', async (c) => {
    // Login CSRF (logging a victim into the attacker's account) is refused like any cross-site post.
    const crossSite = crossSiteProblem(c);
    if (crossSite) return c.json({ error: `refused as a possible cross-site request: ${crossSite}` }, 403);
    let body: { name?: unknown; password?: unknown };
    try {
      body = (await c.req.json()) as typeof body;
    } catch {
      return c.json({ error: 'the body must be JSON like {"name": "...", "password": "..."}' }, 400);
    }
    if (typeof body?.name !== 'string' || typeof body.password !== 'string' || body.name.length > 64 || body.password.length > 1024) {
      return c.json({ error: 'the body must be JSON like {"name": "...", "password": "..."} (name up to 64, password up to 1024 characters)' }, 400);
    }
    const keys = [`ip:${clientAddress(c)}`, `user:${body.name.toLowerCase()}`];
    const waitS = limiter.retryAfterS(keys);
    if (waitS > 0) {
      c.header('retry-after', String(waitS));
      return c.json({ error: `too many failed logins; try again in ${waitS} s`, retry_after_s: waitS }, 429);
    }
    const who = await users.checkPassword(body.name, body.password);
    if (!who) {
      limiter.recordFailure(keys);
      return c.json({ error: 'wrong name or password' }, 401);
    }
    limiter.reset(keys[1]!);
    const record = users.findUser(who.name);
    if (!record) return c.json({ error: 'wrong name or password' }, 401); // removed in the meantime
    await issueSession(c, record, secret, now(), sessionTtlMs);
    return c.json({ name: who.name, role: who.role });
  });

  app.post('/api/logout', (c) => {
    clearSession(c);
    return c.json({ ok: true });
  });

  app.get('/api/me', (c) => {
    const caller = c.get('caller');
    return c.json({ name: caller.name, role: caller.role, via: caller.via });
  });

  return app;
}
