// Resolves the caller of every request from the session cookie or an `Authorization: Bearer`
// API token, then lets it through only if its route is public or the caller's role suffices (both
// declared in web/route-roles.ts); a cookie-authenticated state-changing request must also pass
// the CSRF check.
import type { Context, MiddlewareHandler } from 'hono';
import type { WebUsers } from '../../auth/web-users.ts';
import type { Caller } from './caller.ts';
import { csrfProblem } from './csrf-check.ts';
import { neededRole } from '../route-roles.ts';
import { isApiPath, isSafeMethod, roleAllows } from './paths.ts';
import { readSession } from './session-cookie.ts';

export interface AuthMiddlewareOptions {
  users: WebUsers;
  secret: Buffer;
  now: () => number;
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** The caller, or null when nobody (valid) is presented; `rawSession` is set for cookie callers. */
export async function resolveCaller(c: Context, { users, secret, now }: AuthMiddlewareOptions): Promise<{ caller: Caller; rawSession?: string } | null> {
  const authorization = c.req.header('authorization');
  if (authorization !== undefined) {
    // A presented but bad token is refused outright, never silently replaced by the cookie.
    const token = BEARER.exec(authorization)?.[1];
    const who = token ? users.verifyApiToken(token) : null;
    return who ? { caller: { ...who, via: 'token' } } : null;
  }
  const session = await readSession(c, secret, now());
  if (!session) return null;
  // The user as stored now: removal, a lowered role or a new password take effect on the next request.
  const current = users.findUser(session.name);
  if (!current || current.stamp !== session.stamp) return null;
  return { caller: { name: current.name, role: current.role, via: 'session' }, rawSession: session.raw };
}

export function authMiddleware(options: AuthMiddlewareOptions): MiddlewareHandler {
  return async (c, next) => {
    const method = c.req.method;
    const path = c.req.path;
    const resolved = await resolveCaller(c, options);
    if (resolved) c.set('caller', resolved.caller);
    const needed = neededRole(method, path, isSafeMethod(method));
    if (needed === null) return next();

    const api = isApiPath(path);
    if (!resolved) {
      if (api || !isSafeMethod(method)) return c.json({ error: 'log in first: no valid session cookie or API token' }, 401);
      const url = new URL(c.req.url);
      return c.redirect(`/login?next=${encodeURIComponent(url.pathname + url.search)}`, 302);
    }
    const { caller, rawSession } = resolved;
    if (!roleAllows(caller.role, needed)) {
      return c.json({ error: `${caller.name} is a ${caller.role}; ${method} ${path} needs ${needed}` }, 403);
    }
    if (rawSession !== undefined && !isSafeMethod(method)) {
      const problem = csrfProblem(c, rawSession, options.secret);
      if (problem) return c.json({ error: `refused as a possible cross-site request: ${problem}` }, 403);
    }
    await next();
    // Revalidate every time: a page kept in the browser cache would still show after logout.
    if (!c.res.headers.has('cache-control')) c.res.headers.set('cache-control', 'private, no-cache');
  };
}
