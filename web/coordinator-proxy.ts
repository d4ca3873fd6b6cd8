// In a group of hubs (docs/scaling.md), alarms, sessions and commands run in one hub at a time,
// the coordinator (hub/group/group-coordination.ts): every other hub and web process forwards those API
// calls to it, so the dashboard behind a load balancer sees one set of alarms and sessions.
import type { MiddlewareHandler } from 'hono';
import { proxy } from 'hono/proxy';
import type { Coordinator } from '../hub/group/group-coordination.ts';
import type { ApiError } from '../shared/api-types.ts';

/** 'self' when this process coordinates (serve locally), else where to forward, or 'none' yet. */
export type CoordinatorLocator = () => Promise<Coordinator | 'none' | 'self'>;

/** The API paths that only the coordinator serves. */
export const COORDINATED_PATHS = [
  '/api/alarms',
  '/api/alarms/*',
  '/api/sessions',
  '/api/sessions/*',
  '/api/processes',
  '/api/processes/*',
  '/api/commands/*',
  '/api/nodes/:node/commands',
  '/api/nodes/:node/control',
  // The coordinator's alarm engine must hear of a tag change: its rules may target tags.
  '/api/nodes/:node/tags',
] as const;

export function coordinatorProxy(locate: CoordinatorLocator): MiddlewareHandler {
  return async (c, next) => {
    const where = await locate();
    if (where === 'self') return next();
    if (where === 'none') {
      return c.json<ApiError>(
        { error: 'no hub coordinates alarms, sessions and commands yet: one of the group takes the role within seconds of starting' },
        503,
      );
    }
    const url = new URL(c.req.path + new URL(c.req.url).search, where.apiUrl);
    try {
      return await proxy(url, {
        raw: c.req.raw,
        headers: {
          ...c.req.header(),
          // Checked here already (web/auth); the coordinator checks the session and its CSRF token
          // again, with the logins all processes of a group share, but it is not the site the
          // browser's Origin names.
          origin: undefined,
          'sec-fetch-site': undefined,
          host: undefined,
          'x-forwarded-host': c.req.header('host'),
        },
      });
    } catch (err) {
      return c.json<ApiError>(
        {
          error: `the coordinating hub "${where.hubId}" at ${where.apiUrl} does not answer (${(err as Error).message}); if it is gone, another hub takes over within seconds`,
        },
        502,
      );
    }
  };
}
