// How the auth middleware reads a request's path and method. What each route needs is declared in
// web/route-roles.ts and matched against the path exactly as Hono routes it, so a trick path
// (`//api`, `/./`, `/API`, `%2e`) reaches the same route, or none, for the check and for the app;
// `normalisePath` only chooses between a 401 and a redirect to the login page.

import type { WebRole } from '../../auth/web-users.ts';

/**
 * The path as a browser or proxy might resolve it: percent-decoded (repeatedly, bounded), slashes
 * collapsed, dot segments resolved, lower-cased. Used only to classify, never to route.
 */
export function normalisePath(path: string): string {
  let p = path;
  for (let i = 0; i < 3 && p.includes('%'); i++) {
    try {
      p = decodeURIComponent(p);
    } catch {
      break;
    }
  }
  const out: string[] = [];
  for (const segment of p.replace(/\\/g, '/').split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') out.pop();
    else out.push(segment);
  }
  return `/${out.join('/')}`.toLowerCase();
}

/** API-like paths answer 401/403 JSON; everything else is a page, sent to the login page. */
export function isApiPath(path: string): boolean {
  const p = normalisePath(path);
  return p === '/api' || p.startsWith('/api/') || p === '/metrics';
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
export const isSafeMethod = (method: string) => SAFE_METHODS.has(method);

const RANK: Record<WebRole, number> = { viewer: 0, operator: 1, admin: 2 };
export const roleAllows = (held: WebRole, needed: WebRole) => RANK[held] >= RANK[needed];
