// Which requests are public, and what role the others need. The middleware runs for every path,
// and a path is public only when it is exactly on the allow-list as Hono routes it: a path that
// needs normalising first (`//api`, `/./`, `/API`, `%2e`) is never public, only classified.

import type { WebRole } from '../../auth/web-users.ts';

/** Reachable without logging in: the login page and what it loads, health, and the node installer. */
const PUBLIC_EXACT = new Set(['/login', '/api/login', '/api/logout', '/healthz', '/install.sh', '/assets/login-page.js', '/assets/style.css']);
// The agent bundle holds no secret, and a Pi fetches it with curl before it has any credential.
const PUBLIC_AGENT = /^\/agent\/[A-Za-z0-9][A-Za-z0-9._-]*$/;

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

export function isPublicPath(method: string, path: string): boolean {
  if (path === '/api/login' || path === '/api/logout') return method === 'POST';
  if (method !== 'GET' && method !== 'HEAD') return false;
  return PUBLIC_EXACT.has(path) || PUBLIC_AGENT.test(path);
}

/** API-like paths answer 401/403 JSON; everything else is a page, sent to the login page. */
export function isApiPath(path: string): boolean {
  const p = normalisePath(path);
  return p === '/api' || p.startsWith('/api/') || p === '/metrics';
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
export const isSafeMethod = (method: string) => SAFE_METHODS.has(method);

/** Reading needs viewer; anything that changes state needs operator; managing people and node credentials needs admin. */
export function requiredRole(method: string, path: string): WebRole {
  const p = normalisePath(path);
  if (p.startsWith('/api/users') || p.startsWith('/api/tokens') || p.startsWith('/api/enrolments')) return 'admin';
  return isSafeMethod(method) ? 'viewer' : 'operator';
}

const RANK: Record<WebRole, number> = { viewer: 0, operator: 1, admin: 2 };
export const roleAllows = (held: WebRole, needed: WebRole) => RANK[held] >= RANK[needed];
