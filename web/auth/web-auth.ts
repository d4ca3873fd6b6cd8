// The web tier's authentication, assembled once from the users database and handed to createApp.
import type { Hono, MiddlewareHandler } from 'hono';
import type { WebUsers } from '../../auth/web-users.ts';
import './caller.ts';
import { authMiddleware } from './auth-middleware.ts';
import { LoginLimiter, type LoginLimiterOptions } from './login-limiter.ts';
import { loginRoutes } from './login-routes.ts';

export interface WebAuthOptions {
  users: WebUsers;
  /** How long a login lasts, ms; default 12 h. */
  sessionTtlMs?: number;
  loginLimit?: Omit<LoginLimiterOptions, 'now'>;
  /** Injected so tests control time. */
  now?: () => number;
}

export interface WebAuth {
  /** Installed first, for every path. */
  middleware: MiddlewareHandler;
  /** POST /api/login, POST /api/logout, GET /api/me. */
  routes: Hono;
}

const DEFAULT_TTL_MS = 12 * 3_600_000;
const MAX_TTL_MS = 30 * 86_400_000;

export function createWebAuth({ users, sessionTtlMs = DEFAULT_TTL_MS, loginLimit = {}, now = Date.now }: WebAuthOptions): WebAuth {
  if (!Number.isInteger(sessionTtlMs) || sessionTtlMs < 60_000 || sessionTtlMs > MAX_TTL_MS) {
    throw new TypeError(`sessionTtlMs must be an integer from 60000 (1 min) to ${MAX_TTL_MS} (30 d), got ${sessionTtlMs}`);
  }
  const secret = users.sessionSecret();
  const limiter = new LoginLimiter({ ...loginLimit, now });
  return {
    middleware: authMiddleware({ users, secret, now }),
    routes: loginRoutes({ users, secret, limiter, sessionTtlMs, now }),
  };
}
